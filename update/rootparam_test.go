package update

import (
	"github.com/unit-os/unit/mountinfo"

	"strings"
	"testing"
	"time"
)

func TestRootSpecFrom(t *testing.T) {
	const id = "1112775b-fbd0-4794-a772-5dd66a0b1eb3"
	for _, c := range []struct {
		cmdline string
		ok      bool
		uuid    string
		wait    time.Duration
		err     string
	}{
		{"console=ttyS0 panic=-1", false, "", rootWait, ""},
		{"console=ttyS0 unit.root=PARTUUID=" + id, true, id, rootWait, ""},
		{"unit.root=PARTUUID=" + strings.ToUpper(id) + " unit.rootwait=5s", true, id, 5 * time.Second, ""},
		{"unit.root=PARTUUID=" + id + " unit.rootwait=7", true, id, 7 * time.Second, ""},
		// An appended command line overrides the built-in one.
		{"unit.root=PARTUUID=00000000-0000-4000-8000-000000000000 unit.root=PARTUUID=" + id, true, id, rootWait, ""},
		{"unit.root=/dev/vda2", true, "", rootWait, "want PARTUUID="},
		{"unit.root=LABEL=root", true, "", rootWait, "want PARTUUID="},
		{"unit.root=PARTUUID=1112775b-fbd0-4794-a772-5dd66a0b1eb", true, "", rootWait, "want PARTUUID="},
		{"unit.root=PARTUUID=1112775b-fbd0-4794-a772-5dd66a0b1ebz", true, "", rootWait, "want PARTUUID="},
		{"unit.root=PARTUUID=1112775b/fbd0-4794-a772-5dd66a0b1eb3", true, "", rootWait, "want PARTUUID="},
		{"unit.root=PARTUUID=" + id + " unit.rootwait=0", true, id, rootWait, "unit.rootwait"},
		{"unit.root=PARTUUID=" + id + " unit.rootwait=forever", true, id, rootWait, "unit.rootwait"},
		{"unit.root=PARTUUID=" + id + " unit.rootwait=1h", true, id, rootWait, "unit.rootwait"},
	} {
		spec, ok, err := RootSpecFrom(c.cmdline)
		if ok != c.ok {
			t.Errorf("%q: ok = %v, want %v", c.cmdline, ok, c.ok)
		}
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want one about %q", c.cmdline, err, c.err)
			}
			continue
		}
		if err != nil || spec.PARTUUID != c.uuid || spec.Wait != c.wait {
			t.Errorf("%q: %+v, %v; want %s, %s", c.cmdline, spec, err, c.uuid, c.wait)
		}
	}
}

func TestParseMountPoints(t *testing.T) {
	info := "22 1 0:21 / / rw,relatime - rootfs rootfs rw\n" +
		"23 22 0:5 / /dev rw,nosuid - devtmpfs devtmpfs rw,mode=755\n" +
		"40 23 0:30 / /run/unit/root/image ro - squashfs /dev/vda2 ro\n" +
		"41 22 0:31 / /mnt/with\\040space rw - tmpfs tmpfs rw\n"
	got := mountinfo.Points(info)
	for _, want := range []string{"/", "/dev", "/run/unit/root/image", "/mnt/with space"} {
		if !got[want] {
			t.Errorf("%s not seen as a mount point: %v", want, got)
		}
	}
	if got["/run"] || got["/mnt/with\\040space"] {
		t.Errorf("unexpected mount points: %v", got)
	}
}
