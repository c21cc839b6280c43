package image

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeRunBuildsWhatItBoots: `make run` builds the kernel + initramfs
// it boots and not the disk image (45 s cold for nothing); `make image`,
// which CI runs, still builds both. Read from make's dry run of the
// repository's Makefile.
func TestMakeRunBuildsWhatItBoots(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dry := func(target string) string {
		out, err := exec.Command("make", "-n", "-C", "..", target, "SYSTEM=examples/hello/system.toml", "OUT=out/hello").CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		return string(out)
	}
	run := dry("run")
	if !strings.Contains(run, "image build examples/hello/system.toml -o out/hello\n") || !strings.Contains(run, "image run out/hello\n") {
		t.Errorf("make run does not build and boot out/hello:\n%s", run)
	}
	if i := strings.Index(run, "pkg update --stale packages/"); i < 0 || i > strings.Index(run, "image build") {
		t.Errorf("make run does not re-pin stale committed pins before it builds:\n%s", run)
	}
	if strings.Contains(run, "--format disk") {
		t.Errorf("make run builds the disk image it never boots:\n%s", run)
	}
	if img := dry("image"); !strings.Contains(img, "-o out/hello\n") || !strings.Contains(img, "-o out/hello-disk --format disk") {
		t.Errorf("make image does not build both formats:\n%s", img)
	}
}
