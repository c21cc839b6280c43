package translate

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testRoot is testdata/root copied, with the links a package tree has
// (git keeps none here) and two that lead out of it. outside is a unit
// file beside the root.
func testRoot(t *testing.T) (root, outside string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	if err := os.CopyFS(root, os.DirFS("testdata/root")); err != nil {
		t.Fatal(err)
	}
	outside = filepath.Join(dir, "outside.service")
	if err := os.WriteFile(outside, []byte("[Service]\nExecStart=/bin/outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"lib/systemd/system/sshd.service":    "ssh.service",                        // Alias=, as the package ships it
		"etc/systemd/system/chronyd.service": "/lib/systemd/system/chrony.service", // absolute: the root's
		"etc/systemd/system/masked.service":  "/dev/null",
		"etc/systemd/system/escape.service":  "../../../../outside.service",
		"etc/systemd/system/hostabs.service": outside, // the host's path: not in the root
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

// dump writes a translated service as its TOML keys, each with the line
// At names, then the notes.
func dump(r *Result) string {
	var b strings.Builder
	s := r.Service
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		key := strings.Split(f.Tag.Get("toml"), ",")[0]
		if f.Anonymous || key == "" || key == "-" || v.Field(i).IsZero() {
			continue
		}
		val := v.Field(i).Interface()
		if m, ok := val.(map[string]string); ok {
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(m)) {
				kv = append(kv, fmt.Sprintf("%s=%q", k, m[k]))
			}
			val = strings.Join(kv, " ")
		}
		fmt.Fprintf(&b, "%s = %+v\t# %s\n", key, val, s.At(key))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "%s\n", n)
	}
	fmt.Fprintf(&b, "files: %s\n", strings.Join(r.Files, " "))
	return b.String()
}

// TestGolden: each unit file of testdata (Debian's haproxy, nginx, ssh,
// unbound and chrony as bookworm ships them, and a template with the
// keys they lack) translates to the keys in testdata/NAME.golden, every
// key at its unit file's line, and every key not honoured listed at its
// line with why. ssh takes its drop-ins (/etc's hiding /lib's of the
// same name, one resetting ExecStart); sshd and chronyd are aliases, one
// relative, one absolute, both resolved in the root.
func TestGolden(t *testing.T) {
	root, _ := testRoot(t)
	for _, name := range []string{"haproxy", "nginx", "ssh", "sshd", "unbound", "chrony", "chronyd", "worker@a"} {
		t.Run(name, func(t *testing.T) {
			r, err := Service(root, name)
			if err != nil {
				t.Fatal(err)
			}
			if r == nil {
				t.Fatal("no unit file found")
			}
			got := strings.ReplaceAll(dump(r), root, "ROOT")
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}

// TestLinksStayInRoot: a link that climbs out of the root is an error, an
// absolute one names the root's path (here: nothing, so no unit file),
// a link to /dev/null is a masked unit; no file outside is ever read.
func TestLinksStayInRoot(t *testing.T) {
	root, _ := testRoot(t)
	if r, err := Service(root, "escape"); err == nil || !strings.Contains(err.Error(), "leads out of the root") {
		t.Errorf("escape: %+v, %v; want an error", r, err)
	}
	if r, err := Service(root, "hostabs"); err != nil || r != nil {
		t.Errorf("hostabs: %+v, %v; want no unit file", r, err)
	}
	if _, err := Service(root, "masked"); err == nil || !strings.Contains(err.Error(), "masked") {
		t.Errorf("masked: %v", err)
	}
	if r, err := Service(root, "nothing"); err != nil || r != nil {
		t.Errorf("nothing: %+v, %v", r, err)
	}
	if _, err := Service(root, "../etc/passwd"); err == nil {
		t.Error("a name with a slash was looked up")
	}
}

// TestErrors: a unit file's errors are at their lines; a service with no
// ExecStart is an error at the unit file.
func TestErrors(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "lib/systemd/system")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "bad.service"), []byte("[Service]\nType=forked\nExecStart=/bin/x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "none.service"), []byte("[Service]\nType=oneshot\n"), 0o644)
	_, err := Service(root, "bad")
	if want := "/lib/systemd/system/bad.service:2: Type=forked: expected one of"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("bad: %v, want %s", err, want)
	}
	_, err = Service(root, "none")
	if want := "/lib/systemd/system/none.service:1: none.service: no ExecStart=: nothing to run"; err == nil || err.Error() != want {
		t.Errorf("none: %v, want %s", err, want)
	}
}

// TestDeclaredLoads: the hook in a config.Loader gives a config that
// validates, with the unit file's lines and notes. (nginx's ready =
// "forking" is validated where the supervisor learns it.)
func TestDeclaredLoads(t *testing.T) {
	root, _ := testRoot(t)
	p := filepath.Join(t.TempDir(), "system.toml")
	os.WriteFile(p, []byte("[service.haproxy]\nrestart = \"on-failure\"\n\n[service.\"worker@a\"]\n\n[service.queue]\nexec = [\"/bin/queue\"]\n"), 0o644)
	c, err := config.Loader{Declared: Declared(root)}.LoadFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	h := c.Services["haproxy"]
	if h.Restart != "on-failure" || h.Ready != "notify" || h.KillMode != "mixed" {
		t.Errorf("haproxy: %+v", h)
	}
	if got := c.Services["worker@a"].Requires; !reflect.DeepEqual(got, []string{"service:queue"}) {
		t.Errorf("worker@a requires %q, want the one the config has", got)
	}
	if len(c.Notes) == 0 {
		t.Error("no notes")
	}
}
