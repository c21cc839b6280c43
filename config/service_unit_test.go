package config

import (
	"strings"
	"testing"
)

func TestServiceUnitKeysValid(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", `
[service.haproxy]
exec = ["/usr/sbin/haproxy", "-D", "-p", "/run/haproxy.pid", "$EXTRAOPTS"]
expand = true
exec_pre = [["-+/usr/bin/check", "${CONF}"], ["/bin/true"], ["-@/bin/x", "x-name"], [":!/bin/y", "$literal"], ["!!/bin/z"]]
exec_post = [["+-/bin/true"]]
exec_stop_post = [["/bin/rm", "-f", "/run/haproxy.pid"]]
ready = "forking"
pid_file = "/run/haproxy.pid"
kill_mode = "mixed"
dirs = { runtime = ["haproxy", "haproxy/sub"], runtime_mode = "2775", state = ["haproxy"] }

[service.setup]
exec = ["/bin/setup"]
oneshot = true
remain_after_exit = true

[service.chrony]
exec = ["!/usr/sbin/chronyd", "$DAEMON_OPTS"]
user = "_chrony"

[service.named]
exec = [":@+/bin/x", "x-name"]
`)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := c.Services["haproxy"]
	if h.Ready != "forking" || DirMode(h.Dirs.RuntimeMode) != 0o2775 || DirMode(h.Dirs.StateMode) != 0o755 {
		t.Errorf("parsed: %+v", h)
	}
	for _, w := range []struct {
		word string
		want Prefixes
	}{
		{"-+/a", Prefixes{Prog: "/a", MayFail: true, Root: true}},
		{"+/a", Prefixes{Prog: "/a", Root: true}},
		{"/a", Prefixes{Prog: "/a"}},
		{"!/a", Prefixes{Prog: "/a", NoSetuid: true}},
		{"-!/a", Prefixes{Prog: "/a", MayFail: true, NoSetuid: true}},
		{"!!/a", Prefixes{Prog: "/a", AmbientRoot: true}},
		{"-@/a", Prefixes{Prog: "/a", MayFail: true, Argv0: true}},
		{":+-@/a", Prefixes{Prog: "/a", MayFail: true, Argv0: true, NoExpand: true, Root: true}},
	} {
		p, ok := CommandPrefix(w.word)
		if !ok || p != w.want {
			t.Errorf("CommandPrefix(%q) = %+v %v, want %+v", w.word, p, ok, w.want)
		}
	}
	for _, word := range []string{"--/a", "+!/a", "!+/a", "!!!/a", "@@/a", "::/a", "+!!/a"} {
		if p, ok := CommandPrefix(word); ok {
			t.Errorf("CommandPrefix(%q) = %+v, want refused", word, p)
		}
	}
}

func TestServiceUnitKeysErrors(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.toml", `
[service.a]
exec = ["/bin/a"]
exec_pre = [
  ["@/bin/x"],
  ["-bin/x"],
  [],
]
exec_stop_post = [["--/bin/x"], ["+!/bin/x"]]
pid_file = "/run/a.pid"
kill_mode = "all"
remain_after_exit = true

[service.b]
exec = ["/bin/b"]
ready = "forking"
pid_file = "run/b.pid"
dirs = { runtime = ["../etc"], logs = ["/var/log/b"], cache = ["b"], cache_mode = "rwx" }

[service.c]
exec = ["/bin/c"]
ready = "forking"

[service.d]
exec = ["-/bin/d"]

[service.e]
exec = ["+!/bin/e"]

[service.f]
exec = ["@/bin/f"]

[service.g]
exec = ["!"]
`)
	_, err := Load(dir)
	if err == nil {
		t.Fatal("expected errors")
	}
	msg := err.Error()
	for _, want := range []string{
		a + `:5: service "a": exec_pre[0]: "@/bin/x": "@" needs argv[0] as the second word`,
		a + `:6: service "a": exec_pre[1]: "bin/x": expected an absolute program path after the prefixes`,
		a + `:4: service "a": exec_pre[2] is empty`,
		a + `:9: service "a": exec_stop_post[0]: "--/bin/x": expected the program's path`,
		a + `:9: service "a": exec_stop_post[1]: "+!/bin/x": expected the program's path after systemd's prefixes`,
		a + `:10: service "a": pid_file needs ready = "forking"`,
		a + `:11: service "a": kill_mode = "all": expected one of control-group, mixed, process`,
		a + `:12: service "a": remain_after_exit needs oneshot = true`,
		a + `:17: service "b": pid_file = "run/b.pid": expected a clean absolute path`,
		a + `:18: service "b": dirs.runtime: "../etc": expected a clean relative name without ".."`,
		a + `:18: service "b": dirs.logs: "/var/log/b": expected a clean relative name`,
		a + `:18: service "b": dirs.cache_mode = "rwx": expected an octal mode`,
		a + `:22: service "c": ready = "forking" needs pid_file`,
		a + `:25: service "d": exec: "-/bin/d": "-" is for exec_pre, exec_post and exec_stop_post only`,
		a + `:28: service "e": exec: "+!/bin/e": expected the program after systemd's prefixes`,
		a + `:31: service "f": exec: "@/bin/f": "@" needs argv[0] as the second word`,
		a + `:34: service "g": exec: "!": expected the program after systemd's prefixes`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q; got:\n%s", want, msg)
		}
	}
}
