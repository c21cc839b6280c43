package unitfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/systemd/syntax"
)

// hostServices parses every *.service the host's systemd ships, as the
// typed view too (a template as the instance "test").
func hostServices(t *testing.T) map[string]*Service {
	t.Helper()
	out := map[string]*Service{}
	seen := 0
	for _, dir := range []string{"/lib/systemd/system", "/usr/lib/systemd/system"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.service"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				continue // a dangling alias link
			}
			seen++
			f, err := Parse(p, data)
			if err != nil {
				t.Errorf("parse: %v", err)
				continue
			}
			name := filepath.Base(p)
			if n, err := ParseName(name); err == nil && n.Template {
				name = n.Prefix + "@test." + n.Suffix
			}
			sp := syntax.System()
			sp.Host, sp.ShortHost, sp.MachineID, sp.Arch = "host", "host", "0123456789abcdef0123456789abcdef", "x86-64"
			s, err := f.Service(name, sp)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			out[filepath.Base(p)] = s
		}
	}
	if seen == 0 {
		t.Skip("no systemd unit files on this host")
	}
	t.Logf("%d unit files", seen)
	return out
}

func TestHostServices(t *testing.T) {
	svcs := hostServices(t)
	if s, ok := svcs["systemd-journald.service"]; ok {
		if s.Type.V != "notify" {
			t.Errorf("systemd-journald.service Type = %q, want notify", s.Type.V)
		}
		if len(s.ExecStart) != 1 || !strings.HasSuffix(s.ExecStart[0].Path, "/systemd-journald") {
			t.Errorf("systemd-journald.service ExecStart = %+v", s.ExecStart)
		}
		if s.Restart.V != "always" {
			t.Errorf("systemd-journald.service Restart = %q, want always", s.Restart.V)
		}
	}
	// getty@.service: ExecStart=-/sbin/agetty -o '-p -- \\u' --noclear - $TERM
	if s, ok := svcs["getty@.service"]; ok && len(s.ExecStart) == 1 && s.ExecStart[0].Path == "/sbin/agetty" {
		c := s.ExecStart[0]
		got := c.Expand(map[string]string{"TERM": "linux"})
		want := []string{"/sbin/agetty", "-o", `-p -- \u`, "--noclear", "-", "linux"}
		if !c.IgnoreFailure || !reflect.DeepEqual(got, want) {
			t.Errorf("getty@test.service ExecStart = %+v, expands to %q; want - and %q", c, got, want)
		}
		if s.Type.V != "idle" {
			t.Errorf("getty@.service Type = %q, want idle", s.Type.V)
		}
	}
}
