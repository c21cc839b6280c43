package cm

import (
	"github.com/unit-os/unit/mountinfo"
	"github.com/unit-os/unit/safepath"

	"bufio"
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// mountRes is a [mount."PATH"]. It mounts what is not mounted and unmounts
// what must not be; it never remounts a different device over a mounted
// one (that would hide data in use): that is reported as an error.
type mountRes struct {
	m   config.Mount
	env *env
}

func newMount(m *config.Mount, b *builder) *mountRes { return &mountRes{m: *m, env: b.env} }

func (r *mountRes) ID() string                   { return "mount:" + r.m.Name }
func (r *mountRes) Notifies() []string           { return r.m.Notify }
func (r *mountRes) Watches() []string            { return nil } // mountinfo has no inotify
func (r *mountRes) Path() string                 { return r.m.Name }
func (r *mountRes) Owners() (user, group string) { return "", "" }
func (r *mountRes) Same(o Resource) bool {
	x, ok := o.(*mountRes)
	return ok && reflect.DeepEqual(r.m, x.m)
}

func (r *mountRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *r
	gone.m.Ensure = "unmounted"
	return gone.run(true)
}

func (r *mountRes) Check(ctx context.Context) ([]Delta, error) { return r.run(false) }
func (r *mountRes) Apply(ctx context.Context) ([]Delta, error) { return r.run(true) }

// mountEntry is the part of a mountinfo line we compare.
type mountEntry struct{ source, fstype string }

func (r *mountRes) run(apply bool) ([]Delta, error) {
	cur, mounted, err := findMount(r.env.mountinfo, r.m.Name)
	if err != nil {
		return nil, err
	}
	if r.m.Ensure == "unmounted" {
		if !mounted {
			return nil, nil
		}
		if apply {
			if err := unix.Unmount(r.m.Name, 0); err != nil {
				return nil, fmt.Errorf("umount %s: %w", r.m.Name, err)
			}
		}
		return []Delta{delta("mounted", cur.source, "")}, nil
	}
	if mounted {
		if cur.fstype != r.m.Type || cur.source != r.m.Device {
			return nil, fmt.Errorf("%s: %s (%s) is mounted, want %s (%s); not remounting over it",
				r.m.Name, cur.source, cur.fstype, r.m.Device, r.m.Type)
		}
		return nil, nil
	}
	if apply {
		// The mount point is reached by a safe walk and mounted on through
		// its descriptor, so a user's symlink on the way cannot move the
		// mount onto another place.
		d, err := safepath.Open(r.m.Name, safepath.Create(0o755))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		flags, data := mountFlags(r.m.Options)
		if err := unix.Mount(r.m.Device, fmt.Sprintf("/proc/self/fd/%d", d.Fd()), r.m.Type, flags, data); err != nil {
			return nil, fmt.Errorf("mount %s on %s (%s): %w", r.m.Device, r.m.Name, r.m.Type, err)
		}
	}
	return []Delta{delta("mounted", "", r.m.Device+" ("+r.m.Type+")")}, nil
}

// findMount returns the topmost mount on path from a mountinfo file.
func findMount(infoPath, path string) (mountEntry, bool, error) {
	f, err := os.Open(infoPath)
	if err != nil {
		return mountEntry{}, false, fmt.Errorf("mounts: %w", err)
	}
	defer f.Close()
	var found mountEntry
	ok := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
		pre, post, cut := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(pre)
		tail := strings.Fields(post)
		if !cut || len(fields) < 5 || len(tail) < 2 {
			continue
		}
		if mountinfo.Unescape(fields[4]) == path {
			found, ok = mountEntry{source: mountinfo.Unescape(tail[1]), fstype: tail[0]}, true
		}
	}
	return found, ok, sc.Err()
}

// mountFlags splits fstab-style options into mount(2) flags and the data
// string the filesystem parses.
func mountFlags(opts string) (uintptr, string) {
	known := map[string]uintptr{
		"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV,
		"noexec": unix.MS_NOEXEC, "sync": unix.MS_SYNCHRONOUS, "noatime": unix.MS_NOATIME,
		"nodiratime": unix.MS_NODIRATIME, "relatime": unix.MS_RELATIME, "bind": unix.MS_BIND,
		"rw": 0, "defaults": 0,
	}
	var flags uintptr
	var data []string
	for _, o := range strings.Split(opts, ",") {
		if o == "" {
			continue
		}
		if f, ok := known[o]; ok {
			flags |= f
		} else {
			data = append(data, o)
		}
	}
	return flags, strings.Join(data, ",")
}
