package update

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/uki"
)

// rootWait is the default bound of the wait for the root partition
// (disk.RootWaitParam): long enough for a slow USB stick or an AHCI disk
// probed under emulation, short enough to say something.
const rootWait = 30 * time.Second

// RootSpec is where the root is, as the kernel command line says.
type RootSpec struct {
	PARTUUID string        // lower case, 36 characters
	Wait     time.Duration // how long to wait for it to appear
}

// RootSpecFrom reads unit.root and unit.rootwait from a kernel command
// line. ok is false when there is no unit.root (the initramfs is the
// whole system). The last occurrence of a parameter counts, as an
// appended command line is meant to override. A malformed value is an
// error that names it.
func RootSpecFrom(cmdline string) (spec RootSpec, ok bool, err error) {
	spec.Wait = rootWait
	var root, wait string
	for _, f := range strings.Fields(cmdline) {
		if v, found := strings.CutPrefix(f, disk.RootParam+"="); found {
			root, ok = v, true
		}
		if v, found := strings.CutPrefix(f, disk.RootWaitParam+"="); found {
			wait = v
		}
	}
	if !ok {
		return spec, false, nil
	}
	uuid, found := strings.CutPrefix(root, "PARTUUID=")
	if !found || !uki.IsUUID(uuid) {
		return spec, true, fmt.Errorf("%s=%q: want PARTUUID=<uuid>, e.g. PARTUUID=1112775b-fbd0-4794-a772-5dd66a0b1eb3", disk.RootParam, root)
	}
	spec.PARTUUID = strings.ToLower(uuid)
	if wait != "" {
		d, err := time.ParseDuration(wait)
		if n, nerr := strconv.Atoi(wait); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil || d < time.Second || d > 10*time.Minute {
			return spec, true, fmt.Errorf("%s=%q: want a duration from 1s to 10m (e.g. 30s or 30)", disk.RootWaitParam, wait)
		}
		spec.Wait = d
	}
	return spec, true, nil
}
