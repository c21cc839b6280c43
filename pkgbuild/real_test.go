package pkgbuild

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebPinnedSHA256Mismatch: a deb source pinned to an exact version
// with a sha256 that is not the one in apt's (signed) index fails at the
// recipe's source before anything is downloaded or stored.
func TestDebPinnedSHA256Mismatch(t *testing.T) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache")
	}
	out, err := exec.Command("apt-cache", "policy", "busybox-static").Output()
	if err != nil {
		t.Skip("apt-cache policy:", err)
	}
	ver, err := ParseCandidate(out)
	if err != nil {
		t.Skip("busybox-static:", err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bb.toml": `name = "bb"
version = "1"

[[source]]
deb = "busybox-static"
version = "` + ver + `"
sha256 = "` + strings.Repeat("1", 64) + `"
`})
	b, _ := testBuilder(t, 1)
	_, err = b.Build(t.Context(), []string{filepath.Join(dir, "bb.toml")})
	if err == nil || !strings.Contains(err.Error(), "bb.toml:4:") || !strings.Contains(err.Error(), "sha256 mismatch: apt has") {
		t.Fatalf("error %v: want a sha256 mismatch at bb.toml:4", err)
	}
	if got := storeEntries(t, b.Store()); len(got) > 0 {
		t.Errorf("store has %v", got)
	}
}
