package ldso

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needUnshare(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	if out, err := exec.Command("unshare", "--user", "--map-root-user", "--mount", "--fork", "true").CombinedOutput(); err != nil {
		t.Skipf("user namespaces are not available here: %v: %s", err, out)
	}
}

// TestRunInChroot is the proof: the closure of the host's ssh, copied into
// an empty root with libz moved to a directory only ld.so.conf names, runs
// with our ld.so.cache and fails without it.
func TestRunInChroot(t *testing.T) {
	needUnshare(t)
	const prog = "/usr/bin/ssh"
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("%s is not installed", prog)
	}
	res, err := Closure(hostView(t), []string{prog}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("host closure incomplete: %v", err)
	}
	root := t.TempDir()
	copyOut(t, root, res.Files)

	// Move libz (its soname link and the real file) out of the default dirs.
	libdir := filepath.Join(root, "usr/lib/x86_64-linux-gnu")
	real, err := filepath.EvalSymlinks(filepath.Join(libdir, "libz.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "opt/zlib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(real, filepath.Join(root, "opt/zlib", filepath.Base(real))); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(libdir, "libz.so.1"), filepath.Join(root, "opt/zlib/libz.so.1")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "etc/ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n")
	writeFile(t, filepath.Join(root, "etc/ld.so.conf.d/x.conf"), "# moved\n/opt/zlib\n")

	v, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	// The closure over the new root finds libz through ld.so.conf.
	res2, err := Closure(v, []string{prog}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res2.Err(); err != nil {
		t.Fatalf("closure over the built root: %v", err)
	}
	if !contains(res2.Files, "/opt/zlib/libz.so.1") {
		t.Fatalf("closure misses /opt/zlib/libz.so.1: %v", res2.Files)
	}
	cache, err := WriteCache(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	cachePath := filepath.Join(root, "etc/ld.so.cache")
	if err := os.WriteFile(cachePath, cache, 0o644); err != nil {
		t.Fatal(err)
	}

	chroot, err := exec.LookPath("chroot")
	if err != nil {
		t.Skip("chroot is not installed")
	}
	mount, err := exec.LookPath("mount")
	if err != nil {
		t.Skip("mount is not installed")
	}
	// ssh opens /dev/null first thing: bind the host's over an empty file.
	writeFile(t, filepath.Join(root, "dev/null"), "")
	// and looks up its own user (glibc's files NSS is built into libc).
	writeFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
	run := func() (string, error) {
		cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", "--fork",
			"/bin/sh", "-c", `"$1" --bind /dev/null "$3/dev/null" && exec "$2" "$3" "$4" -V`,
			"sh", mount, chroot, root, prog)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil || !strings.Contains(out, "OpenSSH") {
		t.Fatalf("with our cache: err=%v output=%q", err, out)
	}

	if err := os.Remove(cachePath); err != nil {
		t.Fatal(err)
	}
	out, err = run()
	if err == nil || !strings.Contains(out, "libz.so.1") {
		t.Fatalf("without the cache the run should fail to find libz.so.1: err=%v output=%q", err, out)
	}
}
