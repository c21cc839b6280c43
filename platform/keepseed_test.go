package platform_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/platform"
)

// TestSeedFleetToken: a seed's fleet token is a secret; it goes to its
// own root-only file, never into the world-readable facts.
func TestSeedFleetToken(t *testing.T) {
	dir := t.TempDir()
	factsPath, tokenPath := filepath.Join(dir, "platform.json"), filepath.Join(dir, "fleet.token")
	facts, err := platform.ParseMetaData([]byte("instance-id: i-1\nfleet-token: s3cr3t-once\nrole: web\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := platform.KeepSeed(facts, factsPath, tokenPath); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(factsPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cr3t") || strings.Contains(string(b), "fleet_token") {
		t.Errorf("the token is in the facts: %s", b)
	}
	if !strings.Contains(string(b), `"role":"web"`) {
		t.Errorf("facts: %s", b)
	}
	if _, ok := facts[platform.FleetTokenKey]; ok {
		t.Error("the token is left in the facts the console prints")
	}
	st, err := os.Lstat(tokenPath)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a regular file 0600", tokenPath, st.Mode())
	}
	if b, _ := os.ReadFile(tokenPath); string(b) != "s3cr3t-once" {
		t.Errorf("token %q", b)
	}
	if st, _ := os.Stat(factsPath); st.Mode().Perm() != 0o644 {
		t.Errorf("%s: mode %v", factsPath, st.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}

	// A seed without one writes none.
	dir = t.TempDir()
	if err := platform.KeepSeed(map[string]string{"role": "web"}, filepath.Join(dir, "platform.json"), filepath.Join(dir, "fleet.token")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "fleet.token")); err == nil {
		t.Error("a token file without a token")
	}
}
