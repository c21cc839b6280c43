package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A description in git is named by its revision, marked dirty when it (or
// a recipe) differs from it; outside git by a hash of what it says.
func TestReleaseID(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	system := filepath.Join(dir, "system.toml")
	recipes := filepath.Join(dir, "packages")
	os.MkdirAll(recipes, 0o755)
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(system, "[system]\nhostname = \"a\"\n")
	write(filepath.Join(recipes, "x.toml"), "name = \"x\"\n")

	outside := releaseID(ctx, system, recipes, nil)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{12}$`).MatchString(outside) {
		t.Fatalf("outside git: %q", outside)
	}
	write(filepath.Join(recipes, "x.toml"), "name = \"x\"\nversion = \"2\"\n")
	if again := releaseID(ctx, system, recipes, nil); again == outside {
		t.Error("a changed recipe kept the release")
	}

	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	rev := git("rev-parse", "HEAD")[:12]
	if got := releaseID(ctx, system, recipes, nil); got != "git:"+rev {
		t.Errorf("clean: %q, want git:%s", got, rev)
	}
	write(system, "[system]\nhostname = \"b\"\n")
	dirtyB := releaseID(ctx, system, recipes, nil)
	if !regexp.MustCompile(`^git:` + rev + `-dirty\+[0-9a-f]{8}$`).MatchString(dirtyB) {
		t.Errorf("edited description: %q", dirtyB)
	}
	// The same dirty tree, different systems: never the same release; the
	// same inputs again: the same one.
	write(system, "[system]\nhostname = \"c\"\n")
	if got := releaseID(ctx, system, recipes, nil); got == dirtyB || !strings.HasPrefix(got, "git:"+rev+"-dirty+") {
		t.Errorf("another edit of the description: %q (the first: %q)", got, dirtyB)
	}
	other := filepath.Join(dir, "other.toml")
	write(other, "[system]\nhostname = \"o\"\n")
	if got := releaseID(ctx, other, recipes, nil); got == dirtyB || !strings.HasPrefix(got, "git:"+rev+"-dirty+") {
		t.Errorf("another system in the same tree: %q (the first: %q)", got, dirtyB)
	}
	if got := releaseID(ctx, system, recipes, []string{"kegA"}); got == releaseID(ctx, system, recipes, []string{"kegB"}) {
		t.Errorf("different kegs, one release %q", got)
	}
	write(system, "[system]\nhostname = \"b\"\n")
	if got := releaseID(ctx, system, recipes, nil); got != dirtyB {
		t.Errorf("the same inputs again: %q, want %q", got, dirtyB)
	}
	os.Remove(other)
	git("checkout", "-q", "system.toml")
	write(filepath.Join(dir, "unrelated"), "x")
	if got := releaseID(ctx, system, recipes, nil); got != "git:"+rev {
		t.Errorf("an unrelated file made it %q", got)
	}
	write(filepath.Join(recipes, "new.toml"), "name = \"new\"\n")
	if got := releaseID(ctx, system, recipes, nil); !strings.HasPrefix(got, "git:"+rev+"-dirty+") {
		t.Errorf("an untracked recipe: %q", got)
	}
}
