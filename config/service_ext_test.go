package config

import (
	"strings"
	"testing"
	"time"
)

func TestServiceExtValid(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", `
[service.setup]
exec = ["/bin/setup"]
oneshot = true

[service.web]
exec = ["/bin/httpd"]
requires = ["setup"]
ready = "notify"
watchdog = "10s"
user = "www"
groups = ["adm"]
no_new_privs = true
capabilities = ["CAP_NET_BIND_SERVICE"]
rlimits = { nofile = 1024, core = -1 }
umask = "0027"
env_files = ["/etc/default/web", "-/etc/default/web.local"]
log = { dir = "/var/log/web" }
health = "http:8080/healthz"
`)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Services["setup"]; s.Restart != RestartNever {
		t.Errorf("oneshot default restart %q, want never", s.Restart)
	}
	w := c.Services["web"]
	if w.Log.MaxSize != DefaultLogMaxSize || w.Log.Keep != DefaultLogKeep {
		t.Errorf("log defaults: %+v", w.Log)
	}
	if w.HealthInterval.Duration != DefaultHealthInterval || w.HealthRetries != DefaultHealthRetries || w.HealthTimeout.Duration != 5*time.Second {
		t.Errorf("health defaults: %v %v %d", w.HealthInterval, w.HealthTimeout, w.HealthRetries)
	}
	if w.UmaskValue() != 0o027 || w.Rlimits["nofile"] != 1024 || w.Watchdog.Duration != 10*time.Second {
		t.Errorf("parsed: %+v", w)
	}
}

func TestServiceExtErrors(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.toml", `
[service.a]
exec = ["/bin/a"]
oneshot = true
restart = "always"
ready = "tcp:80"

[service.b]
exec = ["/bin/b"]
watchdog = "5s"
capabilities = ["CAP_FLY"]
rlimits = { nofiles = 10 }
umask = "999"
env_files = ["etc/x"]
log = { dir = "var/log", max_size = "1K" }
health = "udp:53"

[service.c]
exec = ["/bin/c"]
health_interval = "1s"
`)
	_, err := Load(dir)
	if err == nil {
		t.Fatal("expected errors")
	}
	msg := err.Error()
	for _, want := range []string{
		a + `:5: service "a": restart = "always" would run a oneshot forever`,
		a + `:6: service "a": ready = "tcp:80": a oneshot service is ready when it exits 0`,
		a + `:10: service "b": watchdog needs ready = "notify"`,
		a + `:11: service "b": unknown capability "CAP_FLY"`,
		a + `:12: service "b": unknown rlimit "nofiles" (expected one of`,
		a + `:13: service "b": umask = "999": expected an octal mask`,
		a + `:14: service "b": env_files: "etc/x": expected an absolute path`,
		a + `:15: service "b": log.dir = "var/log": expected an absolute path`,
		`service "b": log.max_size = 1024: expected at least 4096 bytes`,
		a + `:16: service "b": health = "udp:53": expected http:PORT/PATH, tcp:PORT, exec:CMD or check:NAME`,
		a + `:18: service "c": health_interval, health_timeout and health_retries need health`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q; got:\n%s", want, msg)
		}
	}
}
