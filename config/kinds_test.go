package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadString(t *testing.T, src string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(dir)
}

func TestKindsLoad(t *testing.T) {
	c, err := loadString(t, `
[cm]
audit = true
reports = 5

[dir."/srv/www"]
mode = "0750"
owner = "www"
purge_unmanaged = true

[link."/usr/bin/vi"]
target = "/bin/busybox"

[user.www]
uid = 1000
groups = ["web"]

[group.web]
gid = 1001

[sysctl."net.ipv4.ip_forward"]
value = "1"

[module.virtio_net]

[mount."/mnt/tmp"]
device = "tmpfs"
type = "tmpfs"
options = "size=1m"

[package.hello]
version = "1.0"

[exec.reindex]
command = ["/bin/true"]
refresh_only = true
requires = ["dir:/srv/www"]

[file."/srv/www/index.html"]
template = "hi {{.vars.name}}"
vars = { name = "x" }
notify = ["exec:reindex"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if !c.CM.Audit || c.CM.Reports != 5 {
		t.Errorf("cm = %+v", c.CM)
	}
	if d := c.Dirs["/srv/www"]; d == nil || d.DirMode != 0o750 || !d.PurgeUnmanaged || d.Ensure != "present" {
		t.Errorf("dir = %+v", d)
	}
	if p := c.Packages["hello"]; p.Store != DefaultStore || p.Prefix != "/usr/local" {
		t.Errorf("package defaults = %+v", p)
	}
	if e := c.Execs["reindex"]; e.Timeout.Duration == 0 || !e.RefreshOnly || e.Requires[0] != "dir:/srv/www" {
		t.Errorf("exec = %+v", e)
	}
	if m := c.Mounts["/mnt/tmp"]; m.Ensure != "mounted" {
		t.Errorf("mount = %+v", m)
	}
	for _, id := range []string{"user:www", "group:web", "sysctl:net.ipv4.ip_forward", "module:virtio_net", "link:/usr/bin/vi"} {
		if !c.Has(id) {
			t.Errorf("missing %s", id)
		}
	}
}

func TestKindsErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"[dir.\"rel\"]\n", "a.toml:1: dir \"rel\": path must be absolute"},
		{"[link.\"/a\"]\nensure = \"gone\"\n", "a.toml:2: link \"/a\": ensure = \"gone\": expected one of present, absent"},
		{"[user.\"Bad:Name\"]\n", "a.toml:1: user \"Bad:Name\": invalid user name"},
		{"[user.x]\nhome = \"h\"\n", "a.toml:2: user \"x\": home = \"h\": expected an absolute path"},
		{"[group.g]\ngid = -3\n", "a.toml:2: group \"g\": gid = -3"},
		{"[sysctl.\"../x\"]\nvalue = \"1\"\n", "a.toml:1: sysctl \"../x\": invalid key"},
		{"[mount.\"/m\"]\ntype = \"tmpfs\"\n", "a.toml:1: mount \"/m\": expected device"},
		{"[exec.e]\ncreates = \"x\"\n", "exec \"e\": expected command"},
		{"[exec.e]\ncommand = [\"/bin/true\"]\nrequires = [\"dir:/nope\"]\n", "a.toml:3: exec:e requires \"dir:/nope\", which is not defined"},
		{"[dir.\"/a\"]\nnotify = [\"dir:/b\"]\n[dir.\"/b\"]\n", "a.toml:2: dir:/a: notify \"dir:/b\": expected service:NAME or exec:NAME"},
		{"[file.\"/f\"]\ntemplate = \"{{.x\"\n", "a.toml:2: file \"/f\": template:"},
		{"[file.\"/f\"]\ncontent = \"a\"\ntemplate = \"b\"\n", "mutually exclusive"},
		{"[dir.\"/a\"]\nmdoe = \"0755\"\n", "did you mean \"mode\""},
		{"[dir.\"/a\"]\nsource = \"rel\"\n", "a.toml:2: dir \"/a\": source = \"rel\": expected an absolute path or package:NAME/PATH"},
		{"[dir.\"/a\"]\nsource = \"package:nope/x\"\n", "a.toml:2: dir:/a: source \"package:nope/x\": package \"nope\" is not defined"},
		{"[dir.\"/a\"]\nrequries = [\"x\"]\n", "did you mean \"requires\""},
		{"[exec.a]\ncommand = [\"/bin/true\"]\nrequires = [\"exec:b\"]\n[exec.b]\ncommand = [\"/bin/true\"]\nrequires = [\"exec:a\"]\n",
			"a.toml:1: dependency cycle: exec:a -> exec:b -> exec:a"},
	} {
		_, err := loadString(t, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestKindsDefinedTwice(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.toml"), []byte("[user.www]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.toml"), []byte("\n[user.www]\n"), 0o644)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "b.toml:2: user \"www\" is already defined at "+filepath.Join(dir, "a.toml")+":1") {
		t.Fatalf("got %v", err)
	}
}

// requires = ["net:eth0"] works from every kind, services included: a
// service keeps only services in Requires (what the supervisor waits on)
// and the rest in After (the engine's order).
func TestRequiresNet(t *testing.T) {
	c, err := loadString(t, `[net.eth0]
addresses = ["10.0.0.2/24"]
[exec.e]
command = ["/bin/true"]
requires = ["net:eth0"]
[file."/f"]
content = "x"
requires = ["net:eth0"]
[service.db]
exec = ["sleep", "1"]
[service.web]
exec = ["sleep", "1"]
requires = ["db", "net:eth0", "file:/f"]
`)
	if err != nil {
		t.Fatal(err)
	}
	web := c.Services["web"]
	if fmt.Sprint(web.Requires) != "[service:db]" || fmt.Sprint(web.After) != "[net:eth0 file:/f]" {
		t.Errorf("web: requires %v after %v", web.Requires, web.After)
	}
	for _, e := range c.AllEdges() {
		if e.ID == "service:web" && fmt.Sprint(e.Requires) != "[service:db net:eth0 file:/f]" {
			t.Errorf("service:web edges %v", e.Requires)
		}
	}
	for src, want := range map[string]string{
		"[service.web]\nexec = [\"x\"]\nrequires = [\"net:eth1\"]\n":                                                          `a.toml:3: service "web" requires "net:eth1", which is not defined`,
		"[exec.e]\ncommand = [\"x\"]\nrequires = [\"service:web\"]\n[service.web]\nexec = [\"x\"]\nrequires = [\"exec:e\"]\n": "dependency cycle: exec:e -> service:web -> exec:e",
	} {
		if _, err := loadString(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", src, err, want)
		}
	}
}

func TestFileSourceChecked(t *testing.T) {
	for src, want := range map[string]string{
		"package:nope/etc/x": `a.toml:2: file:/f: source "package:nope/etc/x": package "nope" is not defined`,
		"relative":           `a.toml:2: file:/f: source "relative": expected an absolute path or package:NAME/PATH`,
	} {
		_, err := loadString(t, "[file.\"/f\"]\nsource = \""+src+"\"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", src, err)
		}
	}
}
