package pid1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/disk/disktest"
)

// TestRemoveTree: the initramfs is emptied without following a symlink
// out of it and without entering another file system.
func TestRemoveTree(t *testing.T) {
	dir := t.TempDir()
	root, outside := filepath.Join(dir, "root"), filepath.Join(dir, "outside")
	for _, d := range []string{root + "/a/b/c", root + "/empty", outside + "/keep"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{root + "/init", root + "/a/b/c/file", outside + "/keep/file"} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Links to the outside, to a directory and to a file.
	if err := os.Symlink(outside+"/keep", root+"/a/dirlink"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside+"/keep/file", root+"/filelink"); err != nil {
		t.Fatal(err)
	}
	// A read-only directory is emptied too (root can, like switch_root).
	if err := os.Chmod(root+"/a/b", 0o555); err != nil {
		t.Fatal(err)
	}
	mounted := ""
	if os.Getuid() == 0 {
		mnt := root + "/mnt"
		if err := os.Mkdir(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, ""); err == nil {
			mounted = mnt
			t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
			if err := os.WriteFile(mnt+"/other-fs", []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	err = removeTree(fd, st.Dev)
	if os.Getuid() != 0 {
		// Without root the read-only directory stays; the rest must go.
		t.Logf("removeTree as non-root: %v", err)
	} else if mounted == "" && err != nil {
		t.Fatalf("removeTree: %v", err)
	}
	left, _ := os.ReadDir(root)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	switch {
	case mounted != "" && (len(names) != 1 || names[0] != "mnt"):
		t.Errorf("left %v, want only the mount point", names)
	case mounted == "" && os.Getuid() == 0 && len(names) != 0:
		t.Errorf("left %v, want nothing", names)
	}
	if _, err := os.Stat(outside + "/keep/file"); err != nil {
		t.Errorf("a file outside the tree was removed through a symlink: %v", err)
	}
	if mounted != "" {
		if _, err := os.Stat(mounted + "/other-fs"); err != nil {
			t.Errorf("a file on another file system was removed: %v", err)
		}
	} else {
		t.Log("not root or no tmpfs: the mount point case was not run")
	}
}

// TestSwitchRootRefusesRealRoot: off an initramfs (a host, or unit on the
// booted root) nothing switches and nothing is deleted.
func TestSwitchRootRefusesRealRoot(t *testing.T) {
	if isInitramfs() {
		t.Skip("/ is a ramfs or tmpfs here: switchRoot would really run")
	}
	if _, want, _ := wantsRoot("console=ttyS0 unit.root=PARTUUID=" + disktest.RootGUID); want {
		t.Error("wantsRoot is true on a root that is not an initramfs: unit on the root would switch again")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "init"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := switchRoot(dir); err == nil || !strings.Contains(err.Error(), "not an initramfs") {
		t.Fatalf("switchRoot off an initramfs: %v", err)
	}
	if now, _ := os.Getwd(); now != wd {
		t.Errorf("switchRoot changed the working directory to %s before refusing", now)
	}
}
