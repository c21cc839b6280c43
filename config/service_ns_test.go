package config

import (
	"strings"
	"testing"
)

func TestServiceNSKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", `
[service.ok]
exec = ["/bin/ok"]
private_tmp = true
protect_system = "strict"
protect_home = "read-only"
read_write_paths = ["/var/lib/ok", "-/srv/ok"]
read_only_paths = ["/etc/ok"]
inaccessible_paths = ["-/var/secret"]
bind_paths = ["/srv/a:/srv/b:norbind"]
bind_read_only_paths = ["-/dev/log:/var/lib/ok/dev/log", "/etc/ssl"]

[service.plain]
exec = ["/bin/plain"]
protect_system = "no"
`)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Services["ok"].Namespaced() || c.Services["plain"].Namespaced() {
		t.Error("Namespaced wrong")
	}
	for in, want := range map[string]Bind{
		"/a":             {Src: "/a", Dst: "/a", Recursive: true},
		"-/a:/b":         {Src: "/a", Dst: "/b", Optional: true, Recursive: true},
		"/a:/b:norbind":  {Src: "/a", Dst: "/b"},
		"/dev/log:/x/l:": {Src: "/dev/log", Dst: "/x/l", Recursive: true},
	} {
		if got, err := ParseBind(in); err != nil || got != want {
			t.Errorf("ParseBind(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}

	dir = t.TempDir()
	a := write(t, dir, "a.toml", `
[service.bad]
exec = ["/bin/bad"]
protect_system = "on"
protect_home = "hidden"
read_write_paths = ["var/lib/x"]
read_only_paths = ["/etc/../etc"]
inaccessible_paths = ["/"]
bind_paths = ["/a:b"]
bind_read_only_paths = ["/a:/b:ro", "/a:/b:/c:/d"]
`)
	_, err = Load(dir)
	if err == nil {
		t.Fatal("expected errors")
	}
	for _, want := range []string{
		a + `:4: service "bad": protect_system = "on": expected one of yes`,
		a + `:5: service "bad": protect_home = "hidden": expected one of yes`,
		a + `:6: service "bad": read_write_paths: "var/lib/x": expected a clean absolute path`,
		a + `:7: service "bad": read_only_paths: "/etc/../etc": expected a clean absolute path`,
		a + `:8: service "bad": inaccessible_paths: "/": expected`,
		a + `:9: service "bad": bind_paths: "/a:b": "b": expected a clean absolute path`,
		a + `:10: service "bad": bind_read_only_paths: "/a:/b:ro": option "ro": expected rbind or norbind`,
		a + `:10: service "bad": bind_read_only_paths: "/a:/b:/c:/d": expected [-]SOURCE[:DEST[:rbind|norbind]]`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q; got:\n%s", want, err)
		}
	}
}
