package image

import (
	"os"
	"testing"

	"github.com/unit-os/unit/pkgbuild"
)

// TestMain lets the test binary be the package builds' sandbox helper,
// as unit-build is (Options.Helper's default: this program).
func TestMain(m *testing.M) {
	pkgbuild.ServeSandbox(os.Args)
	os.Exit(m.Run())
}
