package safepath

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// errReader gives some bytes, then fails: a download cut mid-stream.
type errReader struct{ n int }

func (r *errReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	for i := range p[:n] {
		p[i] = 'x'
	}
	r.n -= n
	return n, nil
}

func TestWriteFileFuncFailsMidStream(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFileFunc(p, 0o644, -1, -1, func(f *os.File) error {
		_, err := io.Copy(f, &errReader{n: 1 << 20})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err = %v, want the reader's", err)
	}
	if !hasContent(p, "old")() {
		t.Error("old file changed")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestWriteFileFuncReadsBack(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bundle")
	err := WriteFileFunc(p, 0o640, -1, -1, func(f *os.File) error {
		if _, err := f.WriteString("content"); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		b, err := io.ReadAll(f)
		if string(b) != "content" {
			t.Errorf("read back %q, %v", b, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !hasContent(p, "content")() || !hasMode(p, 0o640)() {
		t.Errorf("mode %o", stat(t, p).Mode)
	}
}

// A symlink at the final name is replaced, never written through.
func TestWriteFileReplacesLinkAtName(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	p := filepath.Join(dir, "x")
	if err := os.Symlink(victim, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o644, -1, -1); err != nil {
		t.Fatal(err)
	}
	if !hasContent(victim, "keep")() {
		t.Error("written through the link")
	}
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() || !hasContent(p, "new")() {
		t.Errorf("%s: %v, %v", p, fi, err)
	}
}

// A user's link on the way to a root-owned directory is not followed
// (as cm's writes always did), unless the caller trusts the path.
func TestWriteFileRefusesUsersLinkOnTheWay(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	mkdir(t, home, user)
	etc := filepath.Join(dir, "etc")
	mkdir(t, etc, 0)
	symlink(t, etc, filepath.Join(home, "l"), user)
	p := filepath.Join(home, "l", "shadow")
	var ue *UnsafeError
	if err := WriteFile(p, []byte("x"), 0o600, -1, -1); !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnsafeError", err)
	}
	if _, err := os.Lstat(filepath.Join(etc, "shadow")); !os.IsNotExist(err) {
		t.Errorf("written through the user's link: %v", err)
	}
	if err := WriteFile(p, []byte("x"), 0o600, -1, -1, Trusted()); err != nil {
		t.Fatalf("Trusted: %v", err)
	}
	if !hasContent(filepath.Join(etc, "shadow"), "x")() {
		t.Error("Trusted did not follow the link")
	}
}

// The temp file has its mode and owner before it takes the name: the
// rename moves that very inode into place.
func TestModeAndOwnerBeforeTheName(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	d, base, err := OpenParent(filepath.Join(dir, "x"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tmp, err := d.WriteTemp(base, []byte("x"), 0o640|os.ModeSetgid, user, user, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	before := stat(t, filepath.Join(dir, tmp))
	if before.Mode&0o7777 != 0o2640 || before.Uid != user || before.Gid != user {
		t.Fatalf("temp file: mode %o uid %d gid %d, want 2640 %d %d", before.Mode&0o7777, before.Uid, before.Gid, user, user)
	}
	if err := d.Commit(tmp, base); err != nil {
		t.Fatal(err)
	}
	if after := stat(t, filepath.Join(dir, "x")); after.Ino != before.Ino || after.Mode != before.Mode {
		t.Errorf("renamed file differs from the temp file")
	}
}

// A chown the caller may not do fails the write: no temp file, the old
// file intact. As root, the write runs in a child with another uid.
func TestChownFailsLeavesNothing(t *testing.T) {
	if dir := os.Getenv("SAFEPATH_CHOWN_DIR"); dir != "" {
		p := filepath.Join(dir, "x")
		if err := WriteFile(p, []byte("new"), 0o644, 0, 0); err == nil {
			t.Fatal("chown to root as an unprivileged user succeeded")
		}
		return
	}
	needRoot(t)
	dir, err := os.MkdirTemp("", "safepath-chown-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	os.Chown(dir, user, user)
	p := filepath.Join(dir, "x")
	os.WriteFile(p, []byte("old"), 0o644)
	os.Chown(p, user, user)
	// The test binary's own directory is root's alone: run a copy.
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "test.bin")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestChownFailsLeavesNothing$")
	cmd.Env = append(os.Environ(), "SAFEPATH_CHOWN_DIR="+dir)
	cmd.SysProcAttr = asUser(user)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !hasContent(p, "old")() {
		t.Error("old file changed")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestCreateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	if err := CreateFile(p, []byte("one"), 0o600, -1, -1); err != nil {
		t.Fatal(err)
	}
	if err := CreateFile(p, []byte("two"), 0o600, -1, -1); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second create: %v, want ErrExist", err)
	}
	if !hasContent(p, "one")() || !hasMode(p, 0o600)() {
		t.Error("the first file changed")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestSymlinkAndRename(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "current")
	for _, target := range []string{"1.0", "2.0"} {
		if err := Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.Readlink(link); got != target {
			t.Errorf("link -> %q, want %q", got, target)
		}
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if err := Symlink("x", filepath.Join(dir, "sub")); err == nil {
		t.Error("a link over a directory: no error")
	}
	src := filepath.Join(t.TempDir(), "download")
	os.WriteFile(src, []byte("deb"), 0o644)
	dst := filepath.Join(dir, "sum")
	if err := Rename(src, dst); err != nil {
		t.Fatal(err)
	}
	if !hasContent(dst, "deb")() {
		t.Error("not moved")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

// AsCreated leaves the mode open(2) gave: no chmod (the ESP's FAT refuses
// most).
func TestAsCreatedHonoursUmask(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	old := umask(0o077)
	defer umask(old)
	if err := WriteFile(p, []byte("x"), 0o644, -1, -1, AsCreated()); err != nil {
		t.Fatal(err)
	}
	if !hasMode(p, 0o600)() {
		t.Errorf("mode %o, want 0600 (0644 less the umask)", stat(t, p).Mode&0o7777)
	}
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	dead := filepath.Join(dir, ".page.unit-tmp-2147483000.42-123")
	live := filepath.Join(dir, TempPrefix("page")+"9")
	for _, f := range []string{dead, live} {
		os.WriteFile(f, nil, 0o600)
	}
	var s Sweeper
	if n := s.Sweep(dir); n != 1 {
		t.Errorf("swept %d, want 1", n)
	}
	if _, err := os.Lstat(dead); !os.IsNotExist(err) {
		t.Error("dead writer's temp file left")
	}
	if _, err := os.Lstat(live); err != nil {
		t.Error("live writer's temp file removed")
	}
	os.WriteFile(dead, nil, 0o600)
	if n := s.Sweep(dir); n != 0 {
		t.Errorf("second sweep of the same directory: %d, want 0 (once per process)", n)
	}
}
