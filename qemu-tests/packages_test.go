package qemutests

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"

	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/pkgbuild"
)

// pkgProbe runs the C program (GNU hello, built from Debian's source
// package) and the Go program (gojq, from the module proxy) in the guest.
const pkgProbe = `
[service.pkgprobe]
restart = "never"
exec = ["/bin/sh", "-c", """
echo "HELLO=$(hello)"
echo "GREETING=$(hello -g 'packages work')"
echo "JQ=$(echo '{"a":[1,2,39]}' | jq -c '.a | add')"
echo "WHICH=$(command -v hello) $(readlink /usr/bin/jq)"
unit poweroff
"""]
`

// TestPackagesInGuest boots the example with its [system] packages: kegs
// built from packages/*.toml, the kernel and busybox included.
func TestPackagesInGuest(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.toml")
	system := exampleWith(t, pkgProbe)
	if !regexp.MustCompile(`(?m)^packages\s*=`).MatchString(system) {
		system = strings.Replace(system, "[system]\n", "[system]\npackages = [\"busybox\", \"kernel\", \"hello\", \"gojq\"]\n", 1)
	}
	if err := os.WriteFile(sys, []byte(system), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "image")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	store, err := pkgbuild.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	// The image builder builds the kegs from a copy of ../packages (stale
	// pins re-pinned there), or takes them from the store.
	recipes := pkgtest.Recipes(t, "../packages", filepath.Join(dir, "packages"))
	res, err := image.Build(ctx, image.Options{System: sys, Out: out, Init: unitBinary, CacheDir: os.Getenv("UNIT_CACHE"), Store: store, Recipes: recipes})
	if err != nil {
		t.Fatalf("image build: %v", err)
	}
	if len(res.Packages) < 4 {
		t.Fatalf("image has packages %v, want busybox, kernel, hello, gojq", res.Packages)
	}
	vm := boot(t, out)
	vm.Expect(`\[pkgprobe\] HELLO=Hello, world!`, 0, 60*time.Second)
	vm.Expect(`\[pkgprobe\] GREETING=packages work`, 0, 30*time.Second)
	vm.Expect(`\[pkgprobe\] JQ=42`, 0, 30*time.Second)
	vm.Expect(`\[pkgprobe\] WHICH=/usr/bin/hello gojq`, 0, 30*time.Second)
	vm.Expect(`^unit: power off`, 0, 60*time.Second)
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("qemu did not exit after power off: %v", err)
	}
}
