package cm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/safepath"
)

// A killed apply's temp files are removed when their directory is next
// converged; a live writer's, an older unit's (unknown form), directories
// and what a leftover symlink points at are left alone.
func TestDeadWritersTempFilesSwept(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	dead := filepath.Join(dir, ".page.unit-tmp-2147483000.42-123")   // no such pid
	deadLink := filepath.Join(dir, ".x.unit-tmp-2147483001.42-link") // a leftover link
	live := filepath.Join(dir, safepath.TempPrefix("page")+"9")      // ours, now
	old := filepath.Join(dir, ".page.unit-tmp-8812734")              // another form
	deadDir := filepath.Join(dir, ".d.unit-tmp-2147483002.42-1")
	for _, f := range []string{dead, live, old} {
		if err := os.WriteFile(f, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(victim, deadLink)
	os.Mkdir(deadDir, 0o755)

	cfg := cfgOf(file(filepath.Join(dir, "page"), "hello\n", 0o644))
	if _, err := ApplyOnce(context.Background(), cfg, false, quietLog()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dead, deadLink} {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s: a dead writer's temp file is still there (%v)", f, err)
		}
	}
	for _, f := range []string{live, old, deadDir, victim} {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("%s: removed, but it is not a dead writer's temp file: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symlink's target changed: %q", b)
	}
}
