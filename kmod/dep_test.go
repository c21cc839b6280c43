package kmod

import (
	"bytes"
	"strings"
	"testing"
)

const sampleDep = `kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/drivers/block/virtio_blk.ko:
kernel/fs/squashfs/squashfs.ko.xz:
`

func TestClosureDepsFirst(t *testing.T) {
	d, err := ParseDep(strings.NewReader(sampleDep))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := d.Closure([]string{"virtio-net", "failover", "virtio_blk"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
	}
	if got, want := strings.Join(names, ","), "failover,net_failover,virtio_net,virtio_blk"; got != want {
		t.Fatalf("closure = %s, want %s", got, want)
	}
}

func TestClosureBuiltinAndUnknown(t *testing.T) {
	d, _ := ParseDep(strings.NewReader(sampleDep))
	mods, err := d.Closure([]string{"ext4", "squashfs"}, map[string]bool{"ext4": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 1 || mods[0].Name != "squashfs" || mods[0].Path != "kernel/fs/squashfs/squashfs.ko.xz" {
		t.Fatalf("got %+v", mods)
	}
	if _, err := d.Closure([]string{"nosuch"}, nil); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("unknown module: err = %v", err)
	}
	bad, _ := ParseDep(strings.NewReader("a.ko: b.ko\n"))
	if _, err := bad.Closure([]string{"a"}, nil); err == nil || !strings.Contains(err.Error(), "needed by a") {
		t.Fatalf("missing dep: err = %v", err)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	d, _ := ParseDep(strings.NewReader(sampleDep))
	mods, _ := d.Closure([]string{"virtio_net"}, nil)
	var buf bytes.Buffer
	if err := Format(&buf, mods); err != nil {
		t.Fatal(err)
	}
	d2, err := ParseDep(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(d2) != 3 || len(d2["virtio_net"].Deps) != 2 {
		t.Fatalf("round trip lost data: %+v", d2)
	}
	if _, err := ParseDep(strings.NewReader("garbage line\n")); err == nil {
		t.Fatal("expected parse error")
	}
}
