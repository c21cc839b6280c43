package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMergesInNameOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "20-web.toml", `
[service.web]
exec = ["/bin/httpd", "-f"]
requires = ["db"]
ready = "tcp:8080"
stop_timeout = "3s"
[service.web.limits]
memory = "64M"
pids = 64
`)
	write(t, dir, "10-base.toml", `
[system]
hostname = "demo"
modules = ["virtio_net"]

[service.db]
exec = ["/bin/db"]
enabled = false

[file."/etc/motd"]
content = "hi\n"
mode = "0600"
notify = ["service:web"]
`)
	write(t, dir, "notes.txt", "not toml, ignored")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Base(c.Sources[0]); got != "10-base.toml" {
		t.Fatalf("merge order: first = %s", got)
	}
	if c.System.Hostname != "demo" || len(c.System.Modules) != 1 {
		t.Fatalf("system = %+v", c.System)
	}
	web := c.Services["web"]
	if web.Requires[0] != "service:db" || web.Restart != RestartAlways || web.StopTimeout.Duration != 3*time.Second {
		t.Fatalf("web = %+v", web)
	}
	if web.Limits.Memory != 64<<20 || web.Limits.Pids != 64 {
		t.Fatalf("limits = %+v", web.Limits)
	}
	if c.Services["db"].IsEnabled() || !web.IsEnabled() {
		t.Fatal("enabled defaults wrong")
	}
	f := c.Files["/etc/motd"]
	if f.FileMode != 0o600 || *f.Content != "hi\n" || f.Ensure != "present" || f.Pos.Line != 10 {
		t.Fatalf("file = %+v", f)
	}
	if web.Pos.Line != 2 || !strings.HasSuffix(web.Pos.File, "20-web.toml") {
		t.Fatalf("web pos = %v", web.Pos)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.toml", `[service.web]
exec = ["/bin/x"]
restart = "sometimes"
ready = "tcp:99999"
stop_signal = "SIGFOO"
exe = ["x"]

[service.a]
exec = ["/bin/a"]
requires = ["b"]

[service.b]
exec = ["/bin/b"]
requires = ["a"]
`)
	b := write(t, dir, "b.toml", `[service.web]
exec = ["/bin/y"]

[file."/etc/x"]
mode = "rw"
content = "x"
notify = ["service:ghost"]

[file."/etc/y"]
`)
	_, err := Load(dir)
	if err == nil {
		t.Fatal("expected errors")
	}
	msg := err.Error()
	for _, want := range []string{
		a + `:3: service "web": restart = "sometimes": expected one of always, on-failure, never`,
		a + `:4: service "web": ready = "tcp:99999"`,
		a + `:5: service "web": stop_signal = "SIGFOO"`,
		a + `:6: unknown key "service.web.exe" (did you mean "exec"?)`,
		`dependency cycle: service:a -> service:b -> service:a`,
		b + `:1: service "web" is already defined at ` + a + `:1`,
		b + `:5: file "/etc/x": mode = "rw"`,
		b + `:7: file "/etc/x" notifies "service:ghost", which is not defined`,
		b + `:9: file "/etc/y": expected content`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q; got:\n%s", want, msg)
		}
	}
}

func TestLoadSyntaxAndTypeErrors(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", "[service.web]\nexec = \"/bin/x\"\n")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), p+":2:") {
		t.Fatalf("type error: %v", err)
	}
	dir2 := t.TempDir()
	p2 := write(t, dir2, "a.toml", "[service.web\nexec = []\n")
	_, err = Load(dir2)
	if err == nil || !strings.Contains(err.Error(), p2+":") {
		t.Fatalf("syntax error: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.toml") {
		t.Fatalf("empty dir: %v", err)
	}
}

func TestSizeAndDuration(t *testing.T) {
	var s Size
	for in, want := range map[string]Size{"1024": 1024, "64K": 64 << 10, "64M": 64 << 20, "1g": 1 << 30} {
		if err := s.UnmarshalText([]byte(in)); err != nil || s != want {
			t.Errorf("size %q = %d, %v; want %d", in, s, err, want)
		}
	}
	for _, bad := range []string{"", "M", "-1", "1.5G", "12Q"} {
		if err := s.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("size %q accepted", bad)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d.Duration != 90*time.Second {
		t.Errorf("duration = %v %v", d, err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil {
		t.Error("bad duration accepted")
	}
}

func TestSuggestUnknownNestedKey(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[service.web]\nexec = [\"/x\"]\n[service.web.limits]\nmemroy = \"1M\"\n")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), `did you mean "memory"?`) {
		t.Fatalf("nested suggestion: %v", err)
	}
}
