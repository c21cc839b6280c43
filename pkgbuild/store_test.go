package pkgbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCurrentSuggests: a name the store has no keg of says so and names
// the close one it has (unit pkg show unbond, a [system] packages typo
// with no recipes to look in).
func TestCurrentSuggests(t *testing.T) {
	store := t.TempDir()
	if err := os.MkdirAll(filepath.Join(store, "unbound", "1-abc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("1-abc", filepath.Join(store, "unbound", currentLink)); err != nil {
		t.Fatal(err)
	}
	_, err := Current(store, "unbond")
	if err == nil || !strings.HasPrefix(err.Error(), `package "unbond": not in the store `) || !strings.HasSuffix(err.Error(), `(did you mean "unbound"?)`) {
		t.Errorf("error %v", err)
	}
	if _, err := Current(store, "nginx"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("no close name: %v", err)
	}
}
