package pkgbuild_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/pkgbuild"
	"github.com/unit-os/unit/pkgbuild/pkgtest"
)

// logTB records what a helper logs.
type logTB struct {
	testing.TB
	logs []string
}

func (l *logTB) Logf(format string, args ...any) {
	l.logs = append(l.logs, fmt.Sprintf(format, args...))
}

// TestRecipesRepinsStaleCopy: pkgtest.Recipes copies committed recipes and
// locks; a lock whose pinned .deb the archive dropped (and no cache has)
// is re-pinned in the copy and the test log says so, while the committed
// lock stays as it was; a fresh lock is copied as it is, silently.
func TestRecipesRepinsStaleCopy(t *testing.T) {
	replace := pkgbuild.StandardRepoForTest(t)
	t.Setenv("UNIT_CACHE", t.TempDir())
	src := t.TempDir()
	recipe := filepath.Join(src, "app.toml")
	if err := os.WriteFile(recipe, []byte("name = \"app\"\n\n[[source]]\ndeb = \"app\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := pkgbuild.NewBuilder(pkgbuild.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Update(t.Context(), []string{recipe}); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(src, "app.lock"))
	if err != nil {
		t.Fatal(err)
	}

	fresh := &logTB{TB: t}
	dst := pkgtest.Recipes(fresh, src, filepath.Join(t.TempDir(), "packages"))
	if got, _ := os.ReadFile(filepath.Join(dst, "app.lock")); string(got) != string(committed) || len(fresh.logs) > 0 {
		t.Errorf("fresh lock: copy differs or logs %q", fresh.logs)
	}

	replace("libfoo", "1.0", "2.0.1")
	stale := &logTB{TB: t}
	dst = pkgtest.Recipes(stale, src, filepath.Join(t.TempDir(), "packages"))
	copied, _ := os.ReadFile(filepath.Join(dst, "app.lock"))
	if !strings.Contains(string(copied), "version = '2.0.1'") {
		t.Errorf("the copy's lock was not re-pinned:\n%s", copied)
	}
	if now, _ := os.ReadFile(filepath.Join(src, "app.lock")); string(now) != string(committed) {
		t.Errorf("the committed lock changed:\n%s", now)
	}
	log := strings.Join(stale.logs, "\n")
	if !strings.Contains(log, "re-pinned a copy of") || !strings.Contains(log, "app.toml") || !strings.Contains(log, "libfoo 1.0 -> 2.0.1") || !strings.Contains(log, "make update-locks") {
		t.Errorf("the test log does not say what was re-pinned:\n%s", log)
	}
}
