package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// unitFile is what a translated haproxy.service might declare, each key
// at its line in /lib/systemd/system/haproxy.service.
func unitFile(name string) (*Service, []Note, error) {
	switch name {
	case "haproxy", "web":
	case "broken":
		return nil, nil, Errors{{Pos{"/lib/systemd/system/broken.service", 7}, "Type=bogus: expected one of simple, exec"}}
	case "fails":
		return nil, nil, errors.New("read unit: permission denied")
	default:
		return nil, nil, nil
	}
	at := func(line int) Pos { return Pos{File: "/lib/systemd/system/" + name + ".service", Line: line} }
	d := &Service{
		Exec:     []string{"/usr/sbin/haproxy", "-Ws", "-f", "$CONFIG"},
		Expand:   true,
		Env:      map[string]string{"CONFIG": "/etc/haproxy/haproxy.cfg", "PIDFILE": "/run/haproxy.pid"},
		User:     "haproxy",
		Ready:    "notify",
		Restart:  RestartAlways,
		Requires: []string{"service:syslog", "service:web"},
		ExecPre:  [][]string{{"/usr/sbin/haproxy", "-Ws", "-f", "$CONFIG", "-c", "-q"}},
	}
	for key, line := range map[string]int{"exec": 9, "expand": 9, "env": 4, "user": 12, "ready": 15, "restart": 16, "requires": 3, "exec_pre": 8} {
		d.Declare(key, at(line))
	}
	return d, []Note{{at(20), "PrivateTmp", "no private /tmp yet"}}, nil
}

// TestDeclaredService: a [service.NAME] without exec takes its unit
// file's keys; the table's own keys win key by key (env entry by entry);
// errors about a declared key point into the unit file; requires keeps
// only the services the config has; the notes are the config's.
func TestDeclaredService(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", `[service.haproxy]
user = "root"
env = { CONFIG = "/etc/mine.cfg" }
no_new_privs = false

[service.web]
exec = ["/bin/httpd", "-f"]
`)
	c, err := Loader{Declared: unitFile}.LoadFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Services["haproxy"]
	if got := strings.Join(s.Exec, " "); got != "/usr/sbin/haproxy -Ws -f $CONFIG" || !s.Expand {
		t.Errorf("exec = %q expand = %v, want the unit file's", got, s.Expand)
	}
	if s.User != "root" {
		t.Errorf("user = %q, want the TOML's root", s.User)
	}
	if want := map[string]string{"CONFIG": "/etc/mine.cfg", "PIDFILE": "/run/haproxy.pid"}; !reflect.DeepEqual(s.Env, want) {
		t.Errorf("env = %v, want %v", s.Env, want)
	}
	if s.Ready != "notify" || len(s.ExecPre) != 1 {
		t.Errorf("ready = %q exec_pre = %q", s.Ready, s.ExecPre)
	}
	if !reflect.DeepEqual(s.Requires, []string{"service:web"}) {
		t.Errorf("requires = %q, want only the defined service:web", s.Requires)
	}
	if got := s.ExecPos().String(); got != "/lib/systemd/system/haproxy.service:9" {
		t.Errorf("exec at %s, want the unit file's line", got)
	}
	if len(c.Notes) != 1 || c.Notes[0].String() != "/lib/systemd/system/haproxy.service:20: PrivateTmp= not honoured: no private /tmp yet" {
		t.Errorf("notes = %v", c.Notes)
	}
	if w := c.Services["web"]; w.Expand || w.User != "" {
		t.Errorf("a service with exec took declarations: %+v", w)
	}
}

// TestDeclaredErrors: no unit file keeps today's error and says so; a
// unit file's errors keep their lines; a declared value that is invalid
// is reported at the unit file's line; no hook, no lookup.
func TestDeclaredErrors(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", "[service.nothing]\nuser = \"x\"\n\n[service.broken]\n\n[service.fails]\n")
	_, err := Loader{Declared: unitFile}.LoadFiles(p)
	for _, want := range []string{
		p + `:1: service "nothing": exec is required: a command as a list, e.g. exec = ["/bin/httpd", "-f"], and no package in the image ships nothing.service`,
		"/lib/systemd/system/broken.service:7: Type=bogus: expected one of simple, exec",
		p + `:6: service "fails": read unit: permission denied`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant a line %s", err, want)
		}
	}
	_, err = LoadFiles(p)
	if err == nil || strings.Contains(err.Error(), "no package") || !strings.Contains(err.Error(), "exec is required") {
		t.Errorf("without a hook: %v", err)
	}

	bad := func(name string) (*Service, []Note, error) {
		d := &Service{Exec: []string{"/bin/x"}, Restart: "on-abnormal"}
		d.Declare("restart", Pos{"/lib/systemd/system/x.service", 11})
		return d, nil, nil
	}
	p = write(t, dir, "b.toml", "[service.x]\n")
	_, err = Loader{Declared: bad}.LoadFiles(p)
	if want := `/lib/systemd/system/x.service:11: service "x": restart = "on-abnormal"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %s", err, want)
	}
}
