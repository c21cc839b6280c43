package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

const user = 4242 // an unprivileged uid; no account needed to own files

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another uid")
	}
}

func mkdir(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string, uid int) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// ino names the directory a Dir holds, to compare with where it should be.
func ino(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func inoOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func mustOpen(t *testing.T, path string, want string) {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer d.Close()
	if ino(t, d.Fd()) != inoOf(t, want) {
		t.Fatalf("Open(%s) reached another directory than %s", path, want)
	}
}

func mustRefuse(t *testing.T, path string) *UnsafeError {
	t.Helper()
	d, err := Open(path)
	if err == nil {
		d.Close()
		t.Fatalf("Open(%s) went through", path)
	}
	var ue *UnsafeError
	if !errors.As(err, &ue) {
		t.Fatalf("Open(%s): %v, want an unsafe path error", path, err)
	}
	return ue
}

func TestPlainAndRootLinks(t *testing.T) {
	root := t.TempDir()
	mkdir(t, filepath.Join(root, "usr/lib"), os.Geteuid())
	mustOpen(t, filepath.Join(root, "usr/lib"), filepath.Join(root, "usr/lib"))
	// Links of the directory's owner resolve, relative or absolute, with
	// . and .. on the way.
	symlink(t, "usr/lib", filepath.Join(root, "lib"), os.Geteuid())
	symlink(t, filepath.Join(root, "usr"), filepath.Join(root, "abs"), os.Geteuid())
	mustOpen(t, filepath.Join(root, "lib"), filepath.Join(root, "usr/lib"))
	mustOpen(t, filepath.Join(root, "abs/lib"), filepath.Join(root, "usr/lib"))
	mustOpen(t, filepath.Join(root, "usr/./lib/../lib"), filepath.Join(root, "usr/lib"))

	d, base, err := OpenParent(filepath.Join(root, "lib/libc.so"))
	if err != nil || base != "libc.so" || ino(t, d.Fd()) != inoOf(t, filepath.Join(root, "usr/lib")) {
		t.Fatalf("OpenParent: %v %q", err, base)
	}
	d.Close()
}

func TestErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	symlink(t, "b", filepath.Join(root, "a"), os.Geteuid())
	symlink(t, "a", filepath.Join(root, "b"), os.Geteuid())
	for path, want := range map[string]error{
		filepath.Join(root, "file/x"):  unix.ENOTDIR,
		filepath.Join(root, "missing"): unix.ENOENT,
		filepath.Join(root, "a/x"):     unix.ELOOP,
	} {
		if _, err := Open(path); !errors.Is(err, want) {
			t.Errorf("Open(%s): %v, want %v", path, err, want)
		}
	}
	if _, err := Open("relative/path"); err == nil {
		t.Error("a relative path was walked")
	}
	if _, _, err := OpenParent("/"); err == nil {
		t.Error("the root has a parent")
	}
}

// The attack of issue 14: a user's .ssh replaced by a symlink to root's.
func TestUserLinkToRootRefused(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	home := filepath.Join(root, "home/u")
	mkdir(t, home, user)
	mkdir(t, filepath.Join(root, "root/.ssh"), 0)
	symlink(t, filepath.Join(root, "root/.ssh"), filepath.Join(home, ".ssh"), user)
	ue := mustRefuse(t, filepath.Join(home, ".ssh"))
	if ue.FromUid != user || ue.ToUid != 0 {
		t.Errorf("error names uid %d -> %d: %v", ue.FromUid, ue.ToUid, ue)
	}
	// Relative, through ..: refused at the step out of the user's home.
	os.Remove(filepath.Join(home, ".ssh"))
	symlink(t, "../../root/.ssh", filepath.Join(home, ".ssh"), user)
	mustRefuse(t, filepath.Join(home, ".ssh"))
	// A root-owned link the user moved into their home: refused too.
	os.Remove(filepath.Join(home, ".ssh"))
	symlink(t, "../../root/.ssh", filepath.Join(home, ".ssh"), 0)
	mustRefuse(t, filepath.Join(home, ".ssh"))
}

// A user's relative link in root's sticky /tmp may not lead to root's
// places, though every directory on the way is root's.
func TestUserLinkInRootDirRefused(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	mkdir(t, filepath.Join(root, "etc"), 0)
	mkdir(t, filepath.Join(root, "tmp"), 0)
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	symlink(t, "../etc", filepath.Join(root, "tmp/x"), user)
	mustRefuse(t, filepath.Join(root, "tmp/x"))
	symlink(t, filepath.Join(root, "etc"), filepath.Join(root, "tmp/y"), user)
	mustRefuse(t, filepath.Join(root, "tmp/y"))
}

// A root-owned directory in a user's home: the user could have put it
// there (systemd-tmpfiles refuses the same step).
func TestRootDirInUserDirRefused(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	mkdir(t, filepath.Join(root, "home/u"), user)
	mkdir(t, filepath.Join(root, "home/u/.ssh"), 0)
	mustRefuse(t, filepath.Join(root, "home/u/.ssh"))
}

// Within what a user owns, their links resolve (relative ones).
func TestUserLinkWithinUserDir(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	home := filepath.Join(root, "home/u")
	mkdir(t, filepath.Join(home, "dotfiles"), user)
	mkdir(t, filepath.Join(home, "dotfiles/ssh"), user)
	symlink(t, "dotfiles/ssh", filepath.Join(home, ".ssh"), user)
	mustOpen(t, filepath.Join(home, ".ssh"), filepath.Join(home, "dotfiles/ssh"))
}

// Missing directories are made; in a user's directory they are the user's.
func TestCreate(t *testing.T) {
	root := t.TempDir()
	d, err := Open(filepath.Join(root, "a/b/c"), Create(0o755))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Stat(filepath.Join(root, "a/b/c")); err != nil || !fi.IsDir() {
		t.Fatalf("not made: %v", err)
	}
	if os.Geteuid() != 0 {
		return
	}
	mkdir(t, filepath.Join(root, "home/u"), user)
	d, err = Open(filepath.Join(root, "home/u/.config/app"), Create(0o755))
	if err != nil {
		t.Fatal(err)
	}
	if d.Uid() != user {
		t.Errorf("made %s owned by %d, want the user's %d", d.Path(), d.Uid(), user)
	}
	d.Close()
}

// renameat2(RENAME_EXCHANGE) swaps a user's directory with a symlink to
// root's while walks run: a walk ends in the user's directory or is
// refused, never in root's.
func TestExchangeRace(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	home := filepath.Join(root, "home/u")
	mkdir(t, filepath.Join(home, ".ssh"), user)
	mkdir(t, filepath.Join(root, "root/.ssh"), 0)
	symlink(t, filepath.Join(root, "root/.ssh"), filepath.Join(home, "evil"), user)
	rootIno := inoOf(t, filepath.Join(root, "root/.ssh"))
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		swaps := 0
		for {
			select {
			case <-stop:
				done <- swaps
				return
			default:
			}
			if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(home, ".ssh"), unix.AT_FDCWD, filepath.Join(home, "evil"), unix.RENAME_EXCHANGE); err != nil {
				t.Error(err)
			}
			swaps++
		}
	}()
	var through, refused int
	for range 20000 {
		d, err := Open(filepath.Join(home, ".ssh"))
		if err != nil {
			refused++
			continue
		}
		if ino(t, d.Fd()) == rootIno {
			t.Fatal("a walk reached root's .ssh")
		}
		through++
		d.Close()
	}
	close(stop)
	swaps := <-done
	t.Logf("%d swaps: %d walks reached the user's .ssh, %d were refused", swaps, through, refused)
	if refused == 0 {
		t.Error("no walk met the symlink: the race was not run")
	}
}
