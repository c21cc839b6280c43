package safepath

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	if err := WriteFile(p, []byte("one"), 0o600, -1, -1); err != nil {
		t.Fatal(err)
	}
	if !hasContent(p, "one")() || !hasMode(p, 0o600)() {
		t.Fatal("first write wrong")
	}
	old := stat(t, p)
	if err := WriteFile(p, []byte("two"), 0o755|os.ModeSetuid, -1, -1); err != nil {
		t.Fatal(err)
	}
	if !hasContent(p, "two")() || !hasMode(p, 0o4755)() {
		t.Fatalf("second write wrong: mode %o", stat(t, p).Mode)
	}
	if stat(t, p).Ino == old.Ino {
		t.Error("not replaced by rename (same inode)")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// A rename onto a directory fails at the last step, after the temp file was
// written and synced: the temp file must go and the target stay as it was.
func TestWriteFileRenameOntoDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "x")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(target, "keep")
	if err := os.WriteFile(keep, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("new"), 0o644, -1, -1); err == nil {
		t.Fatal("expected an error")
	}
	if !hasContent(keep, "old")() {
		t.Error("old content changed")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// An immutable target cannot be replaced: rename fails with EPERM after the
// temp file was fully written. The old file must be intact.
func TestWriteFileImmutableTargetFails(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "x")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := setImmutable(target, true); err != nil {
		t.Skipf("cannot set the immutable flag here: %v", err)
	}
	t.Cleanup(func() { setImmutable(target, false) })
	if err := WriteFile(target, []byte("new content"), 0o600, -1, -1); err == nil {
		t.Fatal("expected an error")
	}
	if !hasContent(target, "old")() || !hasMode(target, 0o644)() {
		t.Error("old file changed")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestWriteFileUnwritableDirFails(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "x")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Root ignores permission bits; the immutable flag stops root too.
	if os.Geteuid() == 0 {
		if err := setImmutable(dir, true); err != nil {
			t.Skipf("cannot set the immutable flag here: %v", err)
		}
		t.Cleanup(func() { setImmutable(dir, false) })
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	if err := WriteFile(target, []byte("new"), 0o644, -1, -1); err == nil {
		t.Fatal("expected an error")
	}
	if !hasContent(target, "old")() {
		t.Error("old content changed")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// setImmutable sets or clears FS_IMMUTABLE_FL (chattr +i), which needs
// CAP_LINUX_IMMUTABLE and a filesystem that supports it.
func setImmutable(path string, on bool) error {
	const immutable = 0x10 // FS_IMMUTABLE_FL
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags, err := unix.IoctlGetInt(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		return err
	}
	if on {
		flags |= immutable
	} else {
		flags &^= immutable
	}
	return unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, flags)
}

func hasContent(path, want string) func() bool {
	return func() bool {
		b, err := os.ReadFile(path)
		return err == nil && string(b) == want
	}
}

func hasMode(path string, want uint32) func() bool {
	return func() bool {
		var st unix.Stat_t
		return unix.Stat(path, &st) == nil && st.Mode&0o7777 == want
	}
}

func stat(t *testing.T, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// tempFiles lists leftovers of a write in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.unit-tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
