package qemutests

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"
)

// unit image test builds examples/web, boots it, and asks its checks in
// the guest: every one passes. A copy that expects another body fails,
// names the check and says what came instead (issue 15 point 4).
func TestImageTestWebExample(t *testing.T) {
	system, err := os.ReadFile("../examples/web/system.toml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, sys string) (string, int) {
		t.Helper()
		dir := t.TempDir()
		// The recipes beside the copy: the build takes the nearest packages/.
		pkgtest.Recipes(t, "../packages", filepath.Join(dir, "packages"))
		path := filepath.Join(dir, "system.toml")
		if err := os.WriteFile(path, []byte(sys), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, unitBinary, "image", "test", path, "-o", filepath.Join(dir, "image"))
		cmd.Env = append(os.Environ(), "UNIT_CACHE="+os.Getenv("UNIT_CACHE"))
		var out, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != 0 && code != 1 || !strings.Contains(out.String(), " checks: ") {
			console, _ := os.ReadFile(filepath.Join(dir, "image", "console.log"))
			t.Fatalf("unit image test: exit %d\n%s\n%s\nconsole:\n%s", code, out.String(), stderr.String(), console)
		}
		return out.String(), code
	}

	t.Run("pass", func(t *testing.T) {
		out, code := run(t, string(system))
		if code != 0 || !strings.Contains(out, "5 checks: 5 passed, 0 failed") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		for _, name := range []string{"page", "app", "redis", "postgres", "time"} {
			if !regexp.MustCompile(`(?m)^` + name + `\s+pass\s`).MatchString(out) {
				t.Errorf("check %s did not pass:\n%s", name, out)
			}
		}
		t.Logf("\n%s", out)
	})
	t.Run("wrong body", func(t *testing.T) {
		const right = `body = "nginx from Debian, managed by unit"`
		if !strings.Contains(string(system), right) {
			t.Fatalf("examples/web/system.toml has no %s", right)
		}
		wrong := strings.Replace(string(system), right, `body = "nginx from Ubuntu"`, 1)
		out, code := run(t, wrong)
		if code != 1 || !strings.Contains(out, "5 checks: 4 passed, 1 failed") ||
			!regexp.MustCompile(`(?m)^page\s+FAIL\s.*expected body ~ "nginx from Ubuntu", got "<h1>web: nginx from Debian`).MatchString(out) {
			t.Fatalf("exit %d, want 1 and the page check named:\n%s", code, out)
		}
	})
}
