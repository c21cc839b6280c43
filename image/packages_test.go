package image

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// fakeKeg puts a keg with files into store and makes it current.
func fakeKeg(t *testing.T, store, name string, deps map[string]string, files map[string]string) string {
	t.Helper()
	rel := filepath.Join(name, "1-"+name+"hash")
	dir := filepath.Join(store, rel)
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c, "->") {
			if err := os.Symlink(strings.TrimPrefix(c, "->"), full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	meta, _ := json.Marshal(pkgbuild.Keg{Name: name, Version: "1", Hash: name + "hash", Deps: deps})
	if err := os.WriteFile(filepath.Join(dir, pkgbuild.MetaName), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(dir), filepath.Join(store, name, "current")); err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestLoadPackages(t *testing.T) {
	store := t.TempDir()
	lib := fakeKeg(t, store, "lib", nil, map[string]string{"usr/lib/libx.so.1": "lib"})
	fakeKeg(t, store, "app", map[string]string{"lib": lib}, map[string]string{"usr/bin/app": "app", "usr/bin/a": "->app"})
	fakeKeg(t, store, "clash", nil, map[string]string{"usr/bin/app": "other"})
	fakeKeg(t, store, "passwd", nil, map[string]string{"etc/passwd": "x"})

	ps, err := loadPackages(context.Background(), store, []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range ps.Entries {
		b, err := e.content()
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name] = string(b)
	}
	want := map[string]string{"usr/lib/libx.so.1": "lib", "usr/bin/app": "app", "usr/bin/a": "app"}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %v (the runtime dep included, metadata left out)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(ps.Kegs) != 2 || ps.Kernel != nil || ps.Busybox != nil {
		t.Errorf("kegs %v kernel %v busybox %v", ps.Kegs, ps.Kernel, ps.Busybox)
	}

	if _, err := loadPackages(context.Background(), store, []string{"app", "clash"}); err == nil || !strings.Contains(err.Error(), "both install /usr/bin/app") {
		t.Errorf("clash: %v", err)
	}
	if _, err := loadPackages(context.Background(), store, []string{"nope"}); err == nil || !strings.Contains(err.Error(), "unit pkg build") {
		t.Errorf("missing package: %v", err)
	}
	ps, err = loadPackages(context.Background(), store, []string{"passwd"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.entries(takenPaths(append(baseEntries(nil), configEntries(nil)...))); err == nil || !strings.Contains(err.Error(), "/etc/passwd is already part of the image") {
		t.Errorf("a keg replacing the image's own file: %v", err)
	}
}

func TestKernelKeg(t *testing.T) {
	store := t.TempDir()
	fakeKeg(t, store, "kernel", nil, map[string]string{
		"boot/vmlinuz-6.1.0-9-cloud-amd64":                    "kernel",
		"usr/lib/modules/6.1.0-9-cloud-amd64/modules.dep":     "",
		"usr/lib/modules/6.1.0-9-cloud-amd64/kernel/x/a.ko":   "ko",
		"usr/lib/modules/6.1.0-9-cloud-amd64/modules.builtin": "",
	})
	ps, err := loadPackages(context.Background(), store, []string{"kernel"})
	if err != nil {
		t.Fatal(err)
	}
	if ps.Kernel == nil || ps.Kernel.Release != "6.1.0-9-cloud-amd64" || len(ps.Entries) != 0 {
		t.Fatalf("kernel %+v, %d entries: want the kernel and no files copied", ps.Kernel, len(ps.Entries))
	}
	if !strings.HasSuffix(ps.Kernel.Modules, "usr/lib/modules/6.1.0-9-cloud-amd64") {
		t.Errorf("modules dir %s", ps.Kernel.Modules)
	}
}

func TestFindRecipes(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "packages"), 0o755)
	os.WriteFile(filepath.Join(root, "packages", "x.toml"), nil, 0o644)
	os.MkdirAll(filepath.Join(root, "examples", "a"), 0o755)
	if got := findRecipes("", filepath.Join(root, "examples", "a", "system.toml")); got != filepath.Join(root, "packages") {
		t.Errorf("findRecipes = %q", got)
	}
	if got := findRecipes("/explicit", "x"); got != "/explicit" {
		t.Errorf("explicit: %q", got)
	}
}

// TestKernelKegAgainstProfile: a kernel keg is the image's kernel, but
// the metal profile refuses one that lacks the drivers real machines need
// (the cloud kernel) instead of silently booting without them.
func TestKernelKegAgainstProfile(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	rel := "6.1.0-9-cloud-amd64"
	fakeKeg(t, store, "kernel", nil, map[string]string{
		"boot/vmlinuz-" + rel:                     "kernel",
		"lib/modules/" + rel + "/modules.dep":     "kernel/drivers/virtio/virtio_pci.ko:\nkernel/drivers/nvme/host/nvme.ko:\n",
		"lib/modules/" + rel + "/modules.builtin": "kernel/drivers/usb/host/xhci-pci.ko\n",
	})
	system := filepath.Join(tmp, "system.toml")
	if err := os.WriteFile(system, []byte("[system]\nhardware = \"metal\"\npackages = [\"kernel\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "out"), Init: system,
		CacheDir: filepath.Join(tmp, "cache"), Store: store, Recipes: tmp})
	if err == nil {
		t.Fatal("metal with a cloud kernel keg: built")
	}
	for _, want := range []string{system + ":", `package "kernel"`, "lacks ahci, usb_storage, e1000e, r8169", "linux-image-amd64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	dir := filepath.Join(store, "kernel", "current", "lib", "modules", rel)
	for _, c := range []struct {
		hardware string
		missing  string
	}{{"vm", ""}, {"metal", "ahci,usb_storage,e1000e,r8169"}} {
		p, err := hardwareProfile(config.System{Hardware: c.hardware}, FormatDisk)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(p.missing(dir), ","); got != c.missing {
			t.Errorf("%s: missing %q, want %q", c.hardware, got, c.missing)
		}
	}
}

// TestPackageNameTypo: a name in [system] packages with neither a recipe
// nor a keg is an error at the packages key's line (not the [system]
// header's) that says so and suggests the recipe meant; a keg in the
// store without a recipe is fine.
func TestPackageNameTypo(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	fakeKeg(t, store, "prebuilt", nil, map[string]string{"usr/bin/p": "p"})
	recipes := filepath.Join(tmp, "packages")
	os.MkdirAll(recipes, 0o755)
	for _, n := range []string{"unbound", "nginx"} {
		os.WriteFile(filepath.Join(recipes, n+".toml"), []byte("name = \""+n+"\"\n"), 0o644)
	}
	system := filepath.Join(tmp, "system.toml")
	os.WriteFile(system, []byte("[system]\nhostname = \"x\"\n\n# the daemons\npackages = [\"prebuilt\", \"unbond\"]\n"), 0o644)
	t.Chdir(tmp)
	_, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "out"), Init: system,
		CacheDir: filepath.Join(tmp, "cache"), Store: store})
	want := system + `:5: packages: no recipe "unbond" in packages/ (did you mean "unbound"?)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}
