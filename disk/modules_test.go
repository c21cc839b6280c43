package disk_test

import (
	"slices"
	"testing"

	"github.com/unit-os/unit/disk"
)

// TestModules pins the lists the image builder and PID 1 now share: a
// module dropped from one would be missing on the machine that needs it.
func TestModules(t *testing.T) {
	for name, c := range map[string]struct{ got, want []string }{
		"RootFilesystems": {disk.RootFilesystems, []string{"squashfs", "overlay"}},
		"ESPModules":      {disk.ESPModules, []string{"vfat", "nls_cp437", "nls_utf8", "nls_ascii"}},
		"SeedModules":     {disk.SeedModules, []string{"isofs", "vfat", "nls_cp437", "nls_utf8", "nls_ascii"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %q, want %q", name, c.got, c.want)
		}
	}
}
