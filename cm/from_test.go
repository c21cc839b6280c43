package cm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A resource declared outside unit's files (from = "FILE:LINE") that
// fails is reported at that place, in the text and in the JSON.
func TestReportFrom(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "afile"), []byte("x"), 0o644)
	bad := filepath.Join(dir, "afile", "sub")
	cfg := loadCfg(t, "[dir.\""+bad+"\"]\nfrom = \"/usr/lib/tmpfiles.d/a.conf:1\"\n")
	rep := applyOnce(t, cfg)
	if rep.Failed != 1 || len(rep.Changes) != 1 || rep.Changes[0].From != "/usr/lib/tmpfiles.d/a.conf:1" {
		t.Fatalf("report: %+v", rep)
	}
	if want := "dir:" + bad + " (from /usr/lib/tmpfiles.d/a.conf:1): failed: "; !strings.Contains(rep.String(), want) {
		t.Errorf("report:\n%s\nwant %s", rep, want)
	}
}
