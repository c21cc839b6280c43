package image

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unit-os/unit/pkgbuild"
)

// testCache is shared across test runs so the kernel is downloaded once.
func testCache() string {
	if d := os.Getenv("UNIT_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "unit-test-cache")
}

func TestBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	for _, tool := range []string{"apt-get", "apt-cache", "dpkg-deb", "depmod", "cpio"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	tmp := t.TempDir()
	system := filepath.Join(tmp, "system.toml")
	if err := os.WriteFile(system, []byte("[system]\nhostname = \"repro\"\nmodules = [\"virtio_net\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// /init is not executed here; any file will do.
	initBin := filepath.Join(tmp, "init")
	if err := os.WriteFile(initBin, []byte("not really unit\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	var results []*Result
	for _, out := range []string{"a", "b"} {
		res, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, out), Init: initBin, CacheDir: testCache(), Log: log})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	for _, name := range []string{InitramfsName, ManifestName, VmlinuzName} {
		a, err := os.ReadFile(filepath.Join(tmp, "a", name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(tmp, "b", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds", name)
		}
	}
	res := results[0]
	// Outside git the release is a hash of the description.
	if want := "sha256:" + hashInputs(system, "", nil)[:12]; res.Release != want {
		t.Errorf("release %q, want %q", res.Release, want)
	}
	if !strings.HasSuffix(res.KernelVersion, "-cloud-amd64") {
		t.Errorf("kernel version %q", res.KernelVersion)
	}
	if got := strings.Join(res.Modules, ","); !strings.HasSuffix(got, "virtio_net") || !strings.Contains(got, "failover") {
		t.Errorf("modules = %s", got)
	}
	t.Logf("kernel %s; initramfs %d bytes, %d of them for modules (%d bytes of .ko)",
		res.KernelVersion, res.InitramfsSize, res.ModulesSize, res.ModulesRawSize)

	listing := listInitramfs(t, res.Initramfs)
	mods := "lib/modules/" + res.KernelVersion + "/"
	for _, want := range []string{
		"init", "bin/unit", "bin/busybox", "bin/sh", "etc/unit/system.toml", ReleasePath, "dev/console",
		mods + "modules.dep", mods + "kernel/drivers/net/virtio_net.ko",
		mods + "kernel/drivers/net/net_failover.ko", mods + "kernel/net/core/failover.ko",
	} {
		if !listing[want] {
			t.Errorf("initramfs lacks %s", want)
		}
	}
}

// listInitramfs decompresses with the zstd tool and lists each of the
// concatenated archives with cpio, so the check does not rely on this
// package's own code.
func listInitramfs(t *testing.T, path string) map[string]bool {
	t.Helper()
	raw, err := exec.Command("zstd", "-dc", path).Output()
	if err != nil {
		t.Fatalf("zstd -dc %s: %v", path, err)
	}
	names := map[string]bool{}
	archives := splitCPIO(raw)
	if len(archives) < 2 {
		t.Errorf("%s: %d archives, want the base and the modules at least", path, len(archives))
	}
	for _, a := range archives {
		cmd := exec.Command("cpio", "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(a)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("list %s: %v\n%s", path, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			names[l] = true
		}
	}
	return names
}

// splitCPIO cuts concatenated newc archives after each trailer (and the
// zero padding the kernel skips), walking the headers: a file's data may
// contain the trailer's name (busybox has a cpio applet).
func splitCPIO(b []byte) [][]byte {
	var out [][]byte
	start, off := 0, 0
	pad := func(n int) int { return (n + 3) &^ 3 }
	for off+110 <= len(b) && string(b[off:off+6]) == "070701" {
		size, _ := strconv.ParseUint(string(b[off+54:off+62]), 16, 32)
		nameSize, _ := strconv.ParseUint(string(b[off+94:off+102]), 16, 32)
		name := string(b[off+110 : off+110+int(nameSize)-1])
		off = pad(off+110+int(nameSize)) + pad(int(size))
		if name == "TRAILER!!!" {
			for off < len(b) && b[off] == 0 {
				off++
			}
			out = append(out, b[start:off])
			start = off
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestBuildUnknownModule(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("apt-get not installed")
	}
	tmp := t.TempDir()
	system := filepath.Join(tmp, "system.toml")
	if err := os.WriteFile(system, []byte("[system]\nmodules = [\"no_such_module\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "out"), Init: system, CacheDir: testCache()})
	if err == nil || !strings.Contains(err.Error(), "no_such_module") || !strings.Contains(err.Error(), system) {
		t.Fatalf("err = %v, want one naming the module and %s", err, system)
	}
	if _, serr := os.Stat(filepath.Join(tmp, "out")); serr == nil {
		t.Error("failed build left an output directory")
	}
}

func TestQemuArgs(t *testing.T) {
	got := QemuArgs("/img", RunOptions{Append: "unit.debug", ExtraArgs: []string{"-s"}})
	want := "qemu-system-x86_64 -accel tcg -m 512M -smp 2 -nographic -no-reboot -device virtio-rng-pci " +
		"-kernel /img/vmlinuz -initrd /img/initramfs.cpio.zst -append " + Cmdline + " unit.debug " +
		"-nic user,model=virtio-net-pci -s"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("argv:\n got %s\nwant %s", s, want)
	}
	if got := QemuArgs("d", RunOptions{Memory: "1G"}); got[4] != "1G" {
		t.Fatalf("memory: %q", got)
	}
}

func TestSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	if v, err := sourceDateEpoch(); v != 0 || err != nil {
		t.Fatalf("unset: %d, %v", v, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if v, err := sourceDateEpoch(); v != 1700000000 || err != nil {
		t.Fatalf("set: %d, %v", v, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := sourceDateEpoch(); err == nil {
		t.Fatal("no error for a bad value")
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("UNIT_CACHE", "/u")
	t.Setenv("XDG_CACHE_HOME", "/x")
	for _, c := range []struct{ explicit, unitCache, want string }{
		{"/e", "/u", "/e"},
		{"", "/u", "/u"},
		{"", "", "/x/unit"},
	} {
		t.Setenv("UNIT_CACHE", c.unitCache)
		if got, err := cacheDir(c.explicit); got != c.want || err != nil {
			t.Errorf("cacheDir(%q) with UNIT_CACHE=%q = %q, %v; want %q", c.explicit, c.unitCache, got, err, c.want)
		}
	}
}

// TestManifestPackages builds with kegs from a store and checks that the
// manifest names each keg with its version, hash, store path and sources.
func TestManifestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("apt-get not installed")
	}
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	lib := fakeKeg(t, store, "lib", nil, map[string]string{"usr/lib/libx.so.1": "lib"})
	app := fakeKeg(t, store, "app", map[string]string{"lib": lib}, map[string]string{"usr/bin/app": "app"})
	src := []pkgbuild.SourceID{{Kind: "deb", Name: "app", Version: "1-2", Files: []pkgbuild.FileSum{{Name: "app_1-2_amd64.deb", SHA256: "abc123"}}}}
	meta, _ := json.Marshal(pkgbuild.Keg{Name: "app", Version: "1", Hash: "apphash", Deps: map[string]string{"lib": lib}, Sources: src})
	if err := os.WriteFile(filepath.Join(store, app, pkgbuild.MetaName), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	system := filepath.Join(tmp, "system.toml")
	if err := os.WriteFile(system, []byte("[system]\npackages = [\"app\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	if _, err := Build(context.Background(), Options{System: system, Out: out, Init: system, CacheDir: testCache(), Store: store, Recipes: tmp}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Packages []Package `json:"packages"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]Package{
		"lib": {Name: "lib", Version: "1", KegHash: "libhash", Keg: lib},
		"app": {Name: "app", Version: "1", KegHash: "apphash", Keg: app, Sources: src},
	}
	if len(m.Packages) != len(want) {
		t.Fatalf("manifest packages %+v, want lib and app", m.Packages)
	}
	for _, p := range m.Packages {
		w := want[p.Name]
		if p.Version != w.Version || p.KegHash != w.KegHash || p.Keg != w.Keg || len(p.Sources) != len(w.Sources) {
			t.Errorf("manifest has %+v, want %+v", p, w)
		}
	}
	if !bytes.Contains(b, []byte(`"sha256": "abc123"`)) {
		t.Errorf("manifest lacks the source file's hash:\n%s", b)
	}
}

// TestBuildFleet: [fleet] agent = true puts /bin/unit-fleet in (and
// names it in the manifest); without the program the build says where to
// get it; a system without [fleet] carries none of it even when offered.
func TestBuildFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("apt-get not installed")
	}
	tmp := t.TempDir()
	system := filepath.Join(tmp, "system.toml")
	os.WriteFile(system, []byte("[fleet]\nagent = true\n"), 0o644)
	fleetBin := filepath.Join(tmp, "unit-fleet")
	os.WriteFile(fleetBin, []byte("not really unit-fleet\n"), 0o755)
	if _, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "none"), Init: system, CacheDir: testCache()}); err == nil || !strings.Contains(err.Error(), "system.toml:1: [fleet] agent = true needs the unit-fleet program: `make fleet`") {
		t.Fatalf("without the program: %v", err)
	}
	res, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "with"), Init: system, Fleet: fleetBin, CacheDir: testCache()})
	if err != nil {
		t.Fatal(err)
	}
	if !listInitramfs(t, res.Initramfs)["bin/unit-fleet"] || res.Fleet == nil || res.Fleet.Size != 22 {
		t.Errorf("with [fleet]: no bin/unit-fleet, or not in the manifest: %+v", res.Fleet)
	}
	os.WriteFile(system, []byte("[system]\nhostname = \"alone\"\n"), 0o644)
	res, err = Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "without"), Init: system, Fleet: fleetBin, CacheDir: testCache()})
	if err != nil {
		t.Fatal(err)
	}
	if listInitramfs(t, res.Initramfs)["bin/unit-fleet"] || res.Fleet != nil {
		t.Error("a system without [fleet] got unit-fleet")
	}
}
