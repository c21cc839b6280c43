package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
)

// dirs are made before the start, owned by the service's user with their
// mode (a missing parent is root's); the runtime dir goes when the
// service stops, the state dir stays; a symlink at a dir is refused.
func TestServiceDirs(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (chown)")
	}
	root := t.TempDir()
	target := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(root, "run", "evil")); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, WithDirsRoot(root))
	h.set(map[string]*config.Service{
		"svc": {Exec: sh("echo rt=$RUNTIME_DIRECTORY; exec sleep 100"), User: "65534",
			Dirs: config.ServiceDirs{Runtime: []string{"svc"}, RuntimeMode: "2750", State: []string{"svc/sub"}, StateMode: "0700"}},
		"evil": {Exec: []string{"sleep", "100"}, User: "65534", Dirs: config.ServiceDirs{Runtime: []string{"evil"}}},
	})
	h.waitLog("svc", is("rt="+filepath.Join(root, "run/svc")))
	for _, c := range []struct {
		path string
		uid  uint32
		mode os.FileMode
	}{
		{"run/svc", 65534, os.ModeDir | os.ModeSetgid | 0o750},
		{"var/lib/svc", 0, os.ModeDir | 0o755},
		{"var/lib/svc/sub", 65534, os.ModeDir | 0o700},
	} {
		fi, err := os.Lstat(filepath.Join(root, c.path))
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != c.uid || fi.Mode() != c.mode {
			t.Errorf("%s: uid %d mode %v, want %d %v", c.path, uid, fi.Mode(), c.uid, c.mode)
		}
	}
	h.rec.wait(t, "evil", StateFailed)
	if st := h.status("evil"); !strings.Contains(st.Reason, "a symlink is there; not followed") {
		t.Errorf("evil: %s (%s)", st.State, st.Reason)
	}
	if fi, err := os.Stat(target); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("the symlink's target was given away: %v", err)
	}
	if err := h.s.Stop(h.ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "run/svc")); !os.IsNotExist(err) {
		t.Errorf("runtime dir after stop: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "var/lib/svc/sub")); err != nil {
		t.Errorf("state dir after stop: %v", err)
	}
}
