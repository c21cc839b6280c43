package cm

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

func emptyCfg() *config.Config {
	return &config.Config{Services: map[string]*config.Service{}, Files: map[string]*config.File{}, Kinds: config.Kinds{
		Dirs: map[string]*config.Dir{}, Links: map[string]*config.Link{}, Users: map[string]*config.User{},
		Groups: map[string]*config.Group{}, Sysctls: map[string]*config.Sysctl{}, Modules: map[string]*config.Module{},
		Mounts: map[string]*config.Mount{}, Packages: map[string]*config.Package{}, Execs: map[string]*config.Exec{},
	}}
}

// loadCfg loads TOML through the real config loader (validation, defaults).
func loadCfg(t *testing.T, src string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func applyOnce(t *testing.T, cfg *config.Config, opts ...Option) *Report {
	t.Helper()
	rep, err := ApplyOnce(context.Background(), cfg, false, append([]Option{quietLog()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustNoop(t *testing.T, cfg *config.Config, opts ...Option) {
	t.Helper()
	if rep := applyOnce(t, cfg, opts...); rep.Changed() != 0 || rep.Failed != 0 {
		t.Fatalf("second apply not a no-op:\n%s", rep)
	}
}

func TestDirPurgeUnmanaged(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "www")
	os.MkdirAll(filepath.Join(d, "junkdir"), 0o755)
	os.WriteFile(filepath.Join(d, "junk"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(d, "keep.html"), []byte("old"), 0o644)
	cfg := loadCfg(t, `
[dir."`+d+`"]
mode = "0750"
purge_unmanaged = true
[dir."`+d+`/sub"]
[file."`+d+`/keep.html"]
content = "new"
`)
	rep := applyOnce(t, cfg)
	if rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	ents, _ := os.ReadDir(d)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"keep.html", "sub"}) {
		t.Errorf("entries = %v", names)
	}
	if !hasMode(d, 0o750)() || !hasContent(filepath.Join(d, "keep.html"), "new")() {
		t.Error("mode or content wrong")
	}
	mustNoop(t, cfg)
}

func TestDirOrderAndAbsent(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	cfg := loadCfg(t, `
[dir."`+deep+`"]
mode = "0700"
[file."`+deep+`/f"]
content = "x"
mode = "0600"
[dir."`+root+`/gone"]
ensure = "absent"
`)
	os.Mkdir(filepath.Join(root, "gone"), 0o755)
	rep := applyOnce(t, cfg)
	if rep.Failed != 0 || !hasMode(deep, 0o700)() || !hasContent(filepath.Join(deep, "f"), "x")() {
		t.Fatalf("%s", rep)
	}
	// The dir came before the file (automatic edge), whatever the names.
	var order []string
	for _, c := range rep.Changes {
		order = append(order, c.Resource)
	}
	if i, j := slices.Index(order, "dir:"+deep), slices.Index(order, "file:"+deep+"/f"); i < 0 || j < i {
		t.Errorf("order %v", order)
	}
	if _, err := os.Stat(filepath.Join(root, "gone")); !os.IsNotExist(err) {
		t.Error("absent dir still there")
	}
	mustNoop(t, cfg)
}

func TestLink(t *testing.T) {
	root := t.TempDir()
	l := filepath.Join(root, "bin", "vi")
	cfg := loadCfg(t, `[link."`+l+`"]
target = "/bin/busybox"
`)
	applyOnce(t, cfg)
	if got, _ := os.Readlink(l); got != "/bin/busybox" {
		t.Fatalf("link -> %q", got)
	}
	mustNoop(t, cfg)
	os.Remove(l)
	os.Symlink("/elsewhere", l)
	rep := applyOnce(t, cfg)
	if got, _ := os.Readlink(l); got != "/bin/busybox" || !strings.Contains(rep.String(), "target /elsewhere -> /bin/busybox") {
		t.Fatalf("repoint: %q\n%s", got, rep)
	}
	os.Remove(l)
	os.WriteFile(l, []byte("file"), 0o644)
	if rep := applyOnce(t, cfg); rep.Failed != 1 || !strings.Contains(rep.String(), "not a symlink; not replacing it") {
		t.Fatalf("replaced a regular file:\n%s", rep)
	}
}

func TestExecGuardsAndRefreshOnly(t *testing.T) {
	root := t.TempDir()
	marker := filepath.Join(root, "made")
	count := filepath.Join(root, "count")
	conf := filepath.Join(root, "app.conf")
	src := func(content string) string {
		return `
[exec.make]
command = ["/bin/sh", "-c", "echo made > ` + marker + `"]
creates = "` + marker + `"
[exec.skip]
command = ["/bin/sh", "-c", "echo ran >> ` + count + `.skip"]
unless = ["/bin/true"]
[exec.reload]
command = ["/bin/sh", "-c", "echo x >> ` + count + `"]
refresh_only = true
[file."` + conf + `"]
content = "` + content + `"
notify = ["exec:reload"]
[file."` + conf + `.2"]
content = "` + content + `"
notify = ["exec:reload"]
`
	}
	rep := applyOnce(t, loadCfg(t, src("v1")))
	if rep.Failed != 0 || !hasContent(marker, "made\n")() {
		t.Fatalf("%s", rep)
	}
	// Two files notify it: it runs once.
	if !hasContent(count, "x\n")() {
		b, _ := os.ReadFile(count)
		t.Fatalf("refresh_only ran %q\n%s", b, rep)
	}
	if _, err := os.Stat(count + ".skip"); err == nil {
		t.Error("unless guard did not stop the command")
	}
	// Nothing changed: nothing runs.
	mustNoop(t, loadCfg(t, src("v1")))
	if !hasContent(count, "x\n")() {
		t.Error("refresh_only ran without a change")
	}
	applyOnce(t, loadCfg(t, src("v2")))
	if !hasContent(count, "x\nx\n")() {
		t.Error("refresh_only did not run after a change")
	}
	// A failing command is a failure with its output.
	bad := loadCfg(t, "[exec.bad]\ncommand = [\"/bin/sh\", \"-c\", \"echo oops; exit 3\"]\n")
	if rep := applyOnce(t, bad); rep.Failed != 1 || !strings.Contains(rep.String(), "exit status 3: oops") {
		t.Errorf("%s", rep)
	}
}

func TestFileTemplateDeterministic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "motd")
	// No [system] hostname here: that would be a hostname resource and
	// rename the host; the facts are fixed instead.
	cfg := loadCfg(t, `
[file."`+p+`"]
template = "{{.facts.system.hostname}} cpus={{.facts.cpus}}{{range $k, $v := .vars.m}} {{$k}}={{$v}}{{end}} {{upper .vars.x}}\n"
vars = { x = "y", m = { c = 3, a = 1, b = 2 } }
`)
	facts := &Facts{CPUs: 4, System: SystemFacts{Hostname: "demo"}}
	applyOnce(t, cfg, WithFacts(facts))
	if !hasContent(p, "demo cpus=4 a=1 b=2 c=3 Y\n")() {
		b, _ := os.ReadFile(p)
		t.Fatalf("rendered %q", b)
	}
	mustNoop(t, cfg, WithFacts(facts))
	missing := loadCfg(t, "[file.\""+p+"\"]\ntemplate = \"{{.vars.nope}}\"\n")
	if rep := applyOnce(t, missing, WithFacts(facts)); rep.Failed != 1 || !strings.Contains(rep.String(), "nope") {
		t.Errorf("missing key not an error:\n%s", rep)
	}
}

func TestPackageLinksKeg(t *testing.T) {
	root := t.TempDir()
	store, prefix := filepath.Join(root, "store"), filepath.Join(root, "usr")
	mk := func(ver string, files ...string) {
		for _, f := range files {
			p := filepath.Join(store, "hello", ver, f)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(ver), 0o755)
		}
	}
	mk("1.0-aaa", "bin/hello", "bin/old-tool", "share/doc/hello")
	cfg := func(v string) *config.Config {
		return loadCfg(t, "[package.hello]\nversion = \""+v+"\"\nstore = \""+store+"\"\nprefix = \""+prefix+"\"\n")
	}
	applyOnce(t, cfg("1.0"))
	if got, _ := os.Readlink(filepath.Join(prefix, "bin/hello")); got != filepath.Join(store, "hello/1.0-aaa/bin/hello") {
		t.Fatalf("link = %q", got)
	}
	mustNoop(t, cfg("1.0"))
	mk("2.0-bbb", "bin/hello", "share/doc/hello")
	rep := applyOnce(t, cfg("2.0"))
	if got, _ := os.Readlink(filepath.Join(prefix, "bin/hello")); got != filepath.Join(store, "hello/2.0-bbb/bin/hello") {
		t.Fatalf("upgrade link = %q\n%s", got, rep)
	}
	if _, err := os.Lstat(filepath.Join(prefix, "bin/old-tool")); !os.IsNotExist(err) {
		t.Errorf("stale link of the old version kept\n%s", rep)
	}
	if rep := applyOnce(t, loadCfg(t, "[package.hello]\nstore = \""+store+"\"\n")); rep.Failed != 1 || !strings.Contains(rep.String(), "several kegs match") {
		t.Errorf("ambiguous version:\n%s", rep)
	}
}

type fakeLoader struct{ loaded []string }

func (f *fakeLoader) Load(names ...string) ([]string, error) {
	f.loaded = append(f.loaded, names...)
	return append([]string{"dep"}, names...), nil
}

func TestModuleAndSysctlAgainstTrees(t *testing.T) {
	root := t.TempDir()
	sysmod, procsys := filepath.Join(root, "sysmod"), filepath.Join(root, "procsys")
	os.MkdirAll(filepath.Join(sysmod, "loop"), 0o755)
	os.MkdirAll(filepath.Join(procsys, "net/ipv4"), 0o755)
	os.WriteFile(filepath.Join(procsys, "net/ipv4/ip_forward"), []byte("0\n"), 0o644)
	os.WriteFile(filepath.Join(procsys, "net/ipv4/tcp_rmem"), []byte("4096\t131072\t6291456\n"), 0o644)
	cfg := loadCfg(t, `
[module.loop]
[module.virtio_net]
[sysctl."net.ipv4.ip_forward"]
value = "1"
[sysctl."net.ipv4.tcp_rmem"]
value = "4096 131072 6291456"
`)
	fl := &fakeLoader{}
	opts := []Option{WithModules(fl, sysmod), WithProcSys(procsys)}
	rep := applyOnce(t, cfg, opts...)
	if !slices.Equal(fl.loaded, []string{"virtio_net"}) {
		t.Errorf("loaded %v", fl.loaded)
	}
	if !hasContent(filepath.Join(procsys, "net/ipv4/ip_forward"), "1\n")() {
		t.Errorf("sysctl not written\n%s", rep)
	}
	if !strings.Contains(rep.String(), "sysctl:net.ipv4.ip_forward: value 0 -> 1") || strings.Contains(rep.String(), "tcp_rmem") {
		t.Errorf("report:\n%s", rep)
	}
}

func TestFileSourceFromPackage(t *testing.T) {
	root := t.TempDir()
	store := filepath.Join(root, "store")
	for ver, content := range map[string]string{"1.0-aaa": "conf v1\n", "2.0-bbb": "conf v2\n"} {
		p := filepath.Join(store, "app", ver, "etc", "app.conf")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	dst := filepath.Join(root, "etc", "app.conf")
	cfg := func(v string) *config.Config {
		return loadCfg(t, "[package.app]\nversion = \""+v+"\"\nstore = \""+store+"\"\nprefix = \""+root+"/usr\"\n"+
			"[file.\""+dst+"\"]\nsource = \"package:app/etc/app.conf\"\n")
	}
	applyOnce(t, cfg("1.0"))
	if !hasContent(dst, "conf v1\n")() {
		t.Fatal("not copied from the keg")
	}
	mustNoop(t, cfg("1.0"))
	applyOnce(t, cfg("2.0"))
	if !hasContent(dst, "conf v2\n")() {
		t.Fatal("not updated with the package")
	}
}

func TestDirMirrorsSource(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "www")
	os.MkdirAll(filepath.Join(src, "css"), 0o755)
	os.WriteFile(filepath.Join(src, "index.html"), []byte("hi"), 0o644)
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh"), 0o755)
	os.WriteFile(filepath.Join(src, "css", "a.css"), []byte("a{}"), 0o600)
	os.Symlink("index.html", filepath.Join(src, "home.html"))
	os.MkdirAll(dst, 0o755)
	os.WriteFile(filepath.Join(dst, "stray"), []byte("x"), 0o644)
	cfg := loadCfg(t, "[dir.\""+dst+"\"]\nsource = \""+src+"\"\npurge_unmanaged = true\n")
	rep := applyOnce(t, cfg)
	if rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	if !hasContent(filepath.Join(dst, "index.html"), "hi")() || !hasMode(filepath.Join(dst, "run.sh"), 0o755)() ||
		!hasContent(filepath.Join(dst, "css", "a.css"), "a{}")() || !hasMode(filepath.Join(dst, "css", "a.css"), 0o600)() {
		t.Fatalf("not mirrored\n%s", rep)
	}
	if l, _ := os.Readlink(filepath.Join(dst, "home.html")); l != "index.html" {
		t.Errorf("symlink = %q", l)
	}
	if _, err := os.Stat(filepath.Join(dst, "stray")); !os.IsNotExist(err) {
		t.Error("stray entry kept")
	}
	mustNoop(t, cfg)
	os.WriteFile(filepath.Join(dst, "css", "a.css"), []byte("drift"), 0o600)
	if rep := applyOnce(t, cfg); !strings.Contains(rep.String(), "updated css/a.css") || !hasContent(filepath.Join(dst, "css", "a.css"), "a{}")() {
		t.Errorf("%s", rep)
	}
}
