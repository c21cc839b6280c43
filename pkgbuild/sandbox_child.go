package pkgbuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// SandboxMain is the inside of the sandbox: PID 1 of the new pid
// namespace, root of the new user namespace. It builds the new root from
// the spec, pivots into it, drops every capability and runs the steps in
// order, stopping at the first that fails. It returns instead of exiting;
// the caller exits with its error.
func SandboxMain(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: unit pkg sandbox SPEC.json (run by unit pkg build)")
	}
	if os.Getpid() != 1 {
		return errors.New("pkg sandbox: not in a new pid namespace (run by unit pkg build)")
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var spec sandboxSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("sandbox spec: %w", err)
	}
	// Mounts and capabilities are per thread state in places; keep one thread.
	runtime.LockOSThread()
	// Whatever the builder's umask, the build sees Debian's usual one:
	// the modes of what it makes must not depend on who ran it.
	unix.Umask(0o022)
	if err := setupRoot(&spec); err != nil {
		return fmt.Errorf("sandbox setup: %w", err)
	}
	if err := dropCapabilities(); err != nil {
		return fmt.Errorf("sandbox setup: %w", err)
	}
	for i, step := range spec.Steps {
		fmt.Printf("+ %s\n", strings.Join(step, " "))
		if err := runStep(&spec, step); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, strings.Join(step, " "), err)
		}
	}
	return nil
}

func setupRoot(spec *sandboxSpec) error {
	root := spec.Root
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs root: %w", err)
	}
	for _, d := range []string{"proc", "dev", "tmp", "home/build", "etc", ".old"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	for _, m := range spec.Mounts {
		if err := bind(root, m); err != nil {
			return err
		}
	}
	if err := unix.Mount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	// Writable places of the build's own; the root itself goes read-only.
	for dir, mode := range map[string]string{"tmp": "mode=1777", "home/build": "mode=0700"} {
		if err := unix.Mount("tmpfs", filepath.Join(root, dir), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, mode); err != nil {
			return fmt.Errorf("tmpfs /%s: %w", dir, err)
		}
	}
	links := make([]string, 0, len(spec.Links))
	for p := range spec.Links {
		links = append(links, p)
	}
	sort.Strings(links)
	for _, p := range links {
		if err := os.Symlink(spec.Links[p], filepath.Join(root, p)); err != nil {
			return err
		}
	}
	for p, text := range spec.Files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(text), 0o644); err != nil {
			return err
		}
	}
	if err := unix.PivotRoot(root, filepath.Join(root, ".old")); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Unmount("/.old", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host root: %w", err)
	}
	if err := os.Remove("/.old"); err != nil {
		return err
	}
	// The root itself (not /tmp, /build, /out) becomes read-only.
	if err := unix.MountSetattr(-1, "/", 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("read-only root: %w", err)
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	return nil
}

// bind mounts m.Src at m.Dst under root, read-only unless m.RW.
func bind(root string, m mount) error {
	dst := filepath.Join(root, m.Dst)
	fi, err := os.Stat(m.Src)
	if err != nil {
		return fmt.Errorf("bind %s: %w", m.Src, err)
	}
	if fi.IsDir() {
		err = os.MkdirAll(dst, 0o755)
	} else {
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = os.WriteFile(dst, nil, 0o644)
		}
	}
	if err != nil {
		return fmt.Errorf("bind %s: %w", m.Dst, err)
	}
	if err := unix.Mount(m.Src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Src, m.Dst, err)
	}
	if !m.RW {
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if err := unix.MountSetattr(-1, dst, unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("read-only %s: %w", m.Dst, err)
		}
	}
	return nil
}

// dropCapabilities empties this thread's bounding set and forbids gaining
// privileges, so the steps (forked from this locked thread) run with no
// capabilities and cannot undo the read-only mounts.
func dropCapabilities() error {
	last := 40
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = n
		}
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
}

func runStep(spec *sandboxSpec, step []string) error {
	cmd := exec.Command(step[0], step[1:]...)
	if !strings.Contains(step[0], "/") {
		p, err := lookPath(step[0], spec.Env)
		if err != nil {
			return err
		}
		cmd.Path = p
	}
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Stdin stays nil: /dev/null.
	return cmd.Run()
}

// lookPath searches the build's PATH, not the helper's.
func lookPath(name string, env []string) (string, error) {
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH=%s", name, path)
}
