package cm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
	"golang.org/x/sys/unix"
)

const userUID = 4242 // an unprivileged uid; no account needed to own files

// userHome makes ROOT/home/u (the user's) with a real .ssh of theirs and
// ROOT/root/.ssh/authorized_keys (root's secret), and returns their paths.
func userHome(t *testing.T) (home, rootKeys string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another uid")
	}
	root := t.TempDir()
	home = filepath.Join(root, "home/u")
	for _, d := range []string{home, filepath.Join(home, ".ssh")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, userUID, userUID); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "root/.ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	rootKeys = filepath.Join(root, "root/.ssh/authorized_keys")
	if err := os.WriteFile(rootKeys, []byte("ssh-ed25519 ROOTSECRET root@host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return home, rootKeys
}

// userKeys is the managed file of issue 14: the user's authorized_keys,
// theirs.
func userKeys(home, content string) *config.File {
	f := file(filepath.Join(home, ".ssh/authorized_keys"), content, 0o600)
	f.Owner, f.Group = "4242", "4242"
	return f
}

// swapForLink makes the user's .ssh a symlink (theirs) to root's.
func swapForLink(t *testing.T, home, rootKeys string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(home, ".ssh")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, ".ssh")
	if err := os.Symlink(filepath.Dir(rootKeys), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, userUID, userUID); err != nil {
		t.Fatal(err)
	}
}

func assertRootKeysUntouched(t *testing.T, rootKeys string) {
	t.Helper()
	st := stat(t, rootKeys)
	if !hasContent(rootKeys, "ssh-ed25519 ROOTSECRET root@host\n")() || st.Uid != 0 || st.Mode&0o7777 != 0o600 {
		t.Fatalf("root's authorized_keys changed: uid %d mode %o", st.Uid, st.Mode&0o7777)
	}
}

// The user swaps .ssh for a symlink to /root/.ssh: the apply fails the
// resource with the reason and writes nothing into root's directory.
func TestApplyRefusesUserSymlinkToRoot(t *testing.T) {
	home, rootKeys := userHome(t)
	swapForLink(t, home, rootKeys)
	rep, err := ApplyOnce(context.Background(), cfgOf(userKeys(home, "ssh-ed25519 USERKEY u@laptop\n")), false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || !strings.Contains(rep.String(), "unsafe path") {
		t.Fatalf("want one failure naming the unsafe path:\n%s", rep)
	}
	assertRootKeysUntouched(t, rootKeys)
	if left := tempFiles(t, filepath.Dir(rootKeys)); len(left) > 0 {
		t.Errorf("temp files in root's .ssh: %v", left)
	}
}

// A dry run through the same link must not print root's file as a diff.
func TestDryRunDoesNotLeakThroughSymlink(t *testing.T) {
	home, rootKeys := userHome(t)
	swapForLink(t, home, rootKeys)
	rep, err := ApplyOnce(context.Background(), cfgOf(userKeys(home, "ssh-ed25519 USERKEY u@laptop\n")), true, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	out := rep.String()
	if strings.Contains(out, "ROOTSECRET") {
		t.Fatalf("the dry run showed root's file:\n%s", out)
	}
	if rep.Failed != 1 || !strings.Contains(out, "unsafe path") {
		t.Fatalf("want one failure naming the unsafe path:\n%s", out)
	}
}

// renameat2(RENAME_EXCHANGE) swaps the user's real .ssh with a symlink to
// root's while the engine rewrites and re-owns the file again and again:
// root's file never changes, never becomes the user's, and nothing of
// ours is left in root's directory.
func TestExchangeRaceNeverWritesRootsFile(t *testing.T) {
	home, rootKeys := userHome(t)
	evil := filepath.Join(home, "evil")
	if err := os.Symlink(filepath.Dir(rootKeys), evil); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(evil, userUID, userUID); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	swaps := make(chan int)
	go func() {
		n := 0
		for !stop.Load() {
			if unix.Renameat2(unix.AT_FDCWD, filepath.Join(home, ".ssh"), unix.AT_FDCWD, evil, unix.RENAME_EXCHANGE) == nil {
				n++
			}
		}
		swaps <- n
	}()
	ctx := context.Background()
	var wrote, refused int
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 400 || time.Now().Before(deadline) && i < 5000; i++ {
		// Content and mode change every time, so each pass writes or chmods.
		f := userKeys(home, strings.Repeat("k", i%7+1))
		f.FileMode = []uint32{0o600, 0o640}[i%2]
		rep, err := ApplyOnce(ctx, cfgOf(f), false, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed > 0 {
			refused++
		} else {
			wrote++
		}
	}
	stop.Store(true)
	n := <-swaps
	t.Logf("%d swaps: %d applies went through (into the user's own .ssh), %d were refused", n, wrote, refused)
	assertRootKeysUntouched(t, rootKeys)
	if left := tempFiles(t, filepath.Dir(rootKeys)); len(left) > 0 {
		t.Errorf("temp files in root's .ssh: %v", left)
	}
	if refused == 0 || wrote == 0 {
		t.Errorf("the race did not run both ways (%d written, %d refused)", wrote, refused)
	}
}

// A user's own relative links resolve: managing a file in a dotfiles
// tree behind ~/.ssh -> dotfiles/ssh works and the file is theirs.
func TestApplyFollowsUsersOwnLink(t *testing.T) {
	home, _ := userHome(t)
	real := filepath.Join(home, "dotfiles/ssh")
	if err := os.MkdirAll(real, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(real), real} {
		os.Chown(d, userUID, userUID)
	}
	os.RemoveAll(filepath.Join(home, ".ssh"))
	if err := os.Symlink("dotfiles/ssh", filepath.Join(home, ".ssh")); err != nil {
		t.Fatal(err)
	}
	os.Lchown(filepath.Join(home, ".ssh"), userUID, userUID)
	rep, err := ApplyOnce(context.Background(), cfgOf(userKeys(home, "key\n")), false, quietLog())
	if err != nil || rep.Failed != 0 {
		t.Fatalf("%v\n%s", err, rep)
	}
	if st := stat(t, filepath.Join(real, "authorized_keys")); st.Uid != userUID {
		t.Errorf("written with uid %d", st.Uid)
	}
}

// Missing parents made in a user's home are the user's, not root's (a
// root-owned directory there would make every later walk unsafe).
func TestMissingParentsInUserDirAreTheirs(t *testing.T) {
	home, _ := userHome(t)
	f := file(filepath.Join(home, ".config/app/conf"), "x", 0o644)
	rep, err := ApplyOnce(context.Background(), cfgOf(f), false, quietLog())
	if err != nil || rep.Failed != 0 {
		t.Fatalf("%v\n%s", err, rep)
	}
	for _, d := range []string{".config", ".config/app"} {
		if st := stat(t, filepath.Join(home, d)); st.Uid != userUID {
			t.Errorf("%s made with uid %d", d, st.Uid)
		}
	}
	// Again: the walk through what it made is safe.
	if rep, err := ApplyOnce(context.Background(), cfgOf(f), false, quietLog()); err != nil || rep.Failed != 0 {
		t.Fatalf("second apply: %v\n%s", err, rep)
	}
}

// The same refusals for a dir, a link, a purge and an absent file.
func TestOtherKindsRefuseUnsafePath(t *testing.T) {
	home, rootKeys := userHome(t)
	swapForLink(t, home, rootKeys)
	ssh := filepath.Join(home, ".ssh")
	cfg := cfgOf(absent(filepath.Join(ssh, "authorized_keys")))
	cfg.Dirs = map[string]*config.Dir{filepath.Join(ssh, "sub"): {Meta: config.Meta{Name: filepath.Join(ssh, "sub")}, DirMode: 0o755, Ensure: "present"}}
	cfg.Links = map[string]*config.Link{filepath.Join(ssh, "l"): {Meta: config.Meta{Name: filepath.Join(ssh, "l")}, Target: "/x", Ensure: "present"}}
	rep, err := ApplyOnce(context.Background(), cfg, false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 3 {
		t.Fatalf("want 3 refusals:\n%s", rep)
	}
	assertRootKeysUntouched(t, rootKeys)
	ents, _ := os.ReadDir(filepath.Dir(rootKeys))
	if len(ents) != 1 {
		t.Errorf("root's .ssh holds %d entries", len(ents))
	}
	var ue *safepath.UnsafeError
	_, err = ensureLink(context.Background(), filepath.Join(ssh, "l"), "/x", false, true)
	if !errors.As(err, &ue) {
		t.Errorf("ensureLink: %v", err)
	}
}

// With fs.protected_hardlinks off a user can link /etc/shadow into their
// home; a mode or owner repair must not land on it.
func TestHardlinkedFileAttributesRefused(t *testing.T) {
	home, rootKeys := userHome(t)
	const knob = "/proc/sys/fs/protected_hardlinks"
	old, err := os.ReadFile(knob)
	if err != nil {
		t.Skip(err)
	}
	if err := os.WriteFile(knob, []byte("0"), 0o644); err != nil {
		t.Skipf("cannot turn protected_hardlinks off here: %v", err)
	}
	t.Cleanup(func() { os.WriteFile(knob, old, 0o644) })
	target := filepath.Join(home, ".ssh/authorized_keys")
	if err := os.Link(rootKeys, target); err != nil {
		t.Fatal(err)
	}
	// Same content: only owner and mode differ, which would be done in place.
	f := userKeys(home, "ssh-ed25519 ROOTSECRET root@host\n")
	f.FileMode = 0o644
	rep, err := ApplyOnce(context.Background(), cfgOf(f), false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || !strings.Contains(rep.String(), "hard links") {
		t.Fatalf("want a refusal naming the hard links:\n%s", rep)
	}
	assertRootKeysUntouched(t, rootKeys)
}
