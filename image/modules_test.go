package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeModules writes a small lib/modules/RELEASE tree.
func fakeModules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"modules.dep": "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n" +
			"kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n" +
			"kernel/net/core/failover.ko:\n" +
			"kernel/drivers/block/virtio_blk.ko:\n" +
			"kernel/fs/fuse/fuse.ko:\n",
		"modules.builtin": "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_pci.ko\n",
		"modules.alias": "# Aliases extracted from modules themselves.\n" +
			"alias virtio:d00000001v* virtio_net\n" +
			"alias virtio:d00000002v* virtio_blk\n" +
			"alias char-major-10-229 fuse\n",
		"kernel/drivers/net/virtio_net.ko":   "VNET",
		"kernel/drivers/net/net_failover.ko": "NETF",
		"kernel/net/core/failover.ko":        "FAIL",
		"kernel/drivers/block/virtio_blk.ko": "VBLK",
		"kernel/fs/fuse/fuse.ko":             "FUSE",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSelectModules(t *testing.T) {
	dir := fakeModules(t)
	// "virtio-net" spelled with a dash, virtio_pci built in, failover repeated.
	set, err := selectModules(dir, "6.1.0-1-cloud-amd64", []string{"virtio-net", "virtio_pci", "failover", "virtio_blk"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(set.Names, ","), "failover,net_failover,virtio_net,virtio_blk"; got != want {
		t.Fatalf("names = %s, want %s (deps first)", got, want)
	}
	if set.Size != 16 {
		t.Errorf("size = %d, want 16", set.Size)
	}
	files := map[string]string{}
	for _, e := range set.Entries {
		files[e.Name] = string(e.Data)
	}
	base := "lib/modules/6.1.0-1-cloud-amd64/"
	wantDep := "kernel/net/core/failover.ko:\n" +
		"kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n" +
		"kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n" +
		"kernel/drivers/block/virtio_blk.ko:\n"
	if got := files[base+"modules.dep"]; got != wantDep {
		t.Errorf("modules.dep:\n%s\nwant:\n%s", got, wantDep)
	}
	if files[base+"kernel/drivers/net/virtio_net.ko"] != "VNET" || files[base+"kernel/net/core/failover.ko"] != "FAIL" {
		t.Errorf("module files missing: %v", files)
	}
	if _, ok := files[base+"kernel/fs/fuse/fuse.ko"]; ok {
		t.Error("fuse.ko included but not asked for")
	}
	if !strings.Contains(files[base+"modules.builtin"], "virtio_pci.ko") {
		t.Error("modules.builtin not copied")
	}
	alias := files[base+"modules.alias"]
	if !strings.Contains(alias, "virtio_net") || !strings.Contains(alias, "virtio_blk") || strings.Contains(alias, "fuse") {
		t.Errorf("modules.alias not filtered to included modules:\n%s", alias)
	}
}

func TestSelectModulesUnknown(t *testing.T) {
	_, err := selectModules(fakeModules(t), "r", []string{"virtio_net", "no-such-mod"})
	if err == nil || !strings.Contains(err.Error(), "no_such_mod") {
		t.Fatalf("err = %v, want one naming no_such_mod", err)
	}
}

func TestSelectModulesNone(t *testing.T) {
	set, err := selectModules(fakeModules(t), "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Names) != 0 {
		t.Fatalf("names = %v", set.Names)
	}
	for _, e := range set.Entries {
		if e.Name == "lib/modules/r/modules.dep" && len(e.Data) != 0 {
			t.Errorf("modules.dep = %q, want empty", e.Data)
		}
	}
}
