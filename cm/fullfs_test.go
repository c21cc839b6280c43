package cm

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// smallFS mounts a 64 KiB tmpfs in the test's own mount namespace and
// returns it; false means this is the parent, whose child ran the test.
func smallFS(t *testing.T) (string, bool) {
	t.Helper()
	if !inNamespace(t, syscall.CLONE_NEWNS) {
		return "", false
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir, true
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return n
}

// A write that runs out of space leaves no temp file behind, however often
// it is tried: by hand, through the engine's direct write and through a
// staged (batched) pass.
func TestFailedWritesLeaveNothing(t *testing.T) {
	dir, ok := smallFS(t)
	if !ok {
		return
	}
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := names(t, dir)
	big := strings.Repeat("x", 128<<10)

	for i := range 5 {
		if err := safepath.WriteFile(keep, []byte(big), 0o644, 0, 0); err == nil {
			t.Fatalf("write %d of 128 KiB into 64 KiB succeeded", i)
		}
	}
	if got := names(t, dir); !slices.Equal(got, before) {
		t.Fatalf("after 5 failed safepath.WriteFile: %v, want %v", got, before)
	}

	for i := range 5 {
		rep := applyOnce(t, cfgOf(file(keep, big, 0o644)))
		if rep.Failed != 1 {
			t.Fatalf("apply %d: want a failure\n%s", i, rep)
		}
	}
	if got := names(t, dir); !slices.Equal(got, before) {
		t.Fatalf("after 5 failed applies: %v, want %v", got, before)
	}
	if b, _ := os.ReadFile(keep); string(b) != "old" {
		t.Errorf("the old file changed: %.20q", b)
	}

	// A staged pass (stageMin files or more): the temps that fit are
	// renamed into place, the ones that ran out of space are gone.
	var fs []*config.File
	for i := range stageMin + 6 {
		fs = append(fs, file(filepath.Join(dir, fmt.Sprintf("f%03d", i)), strings.Repeat("y", 2<<10), 0o644))
	}
	for range 3 {
		rep := applyOnce(t, cfgOf(fs...))
		if rep.Failed == 0 {
			t.Fatalf("%d files of 2 KiB all fit in 64 KiB?\n%s", len(fs), rep)
		}
		if left := tempFiles(t, dir); len(left) > 0 {
			t.Fatalf("temp files left after a staged pass: %v", left)
		}
	}
}
