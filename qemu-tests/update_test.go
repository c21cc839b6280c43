package qemutests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/update"
)

// updateSystem is the system the update tests move between: a web server
// whose page names the release, and a check that looks at the answer.
// Its DHCP lease lets the guest fetch bundles from the host (10.0.2.2).
func updateSystem(page, extra string) string {
	return fmt.Sprintf(`[system]
hostname = "upd"
modules  = ["virtio_pci", "virtio_net"]
%s

[net.eth0]
dhcp = true

[service.web]
exec  = ["httpd", "-f", "-p", "80", "-h", "/srv/www"]
ready = "tcp:80"

[file."/srv/www/index.html"]
content = "%s\n"

[check.page]
http = "http://127.0.0.1/"
body = "%s"
`, extra, page, page)
}

// bundleServer serves files from the host to the guest (which reaches the
// host's loopback as 10.0.2.2). /stall/NAME sends NAME up to stallAt
// bytes, says so on stalled, and then holds the connection until the test
// ends: a download cut in the middle, with no timing involved.
type bundleServer struct {
	port    int
	stallAt int64
	stalled chan struct{}
}

func serveBundles(t *testing.T, files map[string]string) *bundleServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bs := &bundleServer{port: l.Addr().(*net.TCPAddr).Port, stalled: make(chan struct{})}
	done := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/b/{name}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, files[r.PathValue("name")])
	})
	mux.HandleFunc("/stall/{name}", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(files[r.PathValue("name")])
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, _ := f.Stat()
		w.Header().Set("Content-Length", fmt.Sprint(fi.Size()))
		buf := make([]byte, bs.stallAt)
		n, _ := f.Read(buf)
		w.Write(buf[:n])
		w.(http.Flusher).Flush()
		once.Do(func() { close(bs.stalled) })
		select {
		case <-done:
		case <-r.Context().Done():
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { close(done); srv.Close() })
	return bs
}

func (bs *bundleServer) url(path string) string {
	return fmt.Sprintf("http://10.0.2.2:%d/%s", bs.port, path)
}

// TestUpdateAB moves one disk machine through A/B updates, each judged by
// the machine itself: a download cut by a power cut (the old slot boots;
// the second try succeeds), a good update (it commits), a rollback on
// purpose, an update whose service never becomes ready and one whose init
// dies at once (each comes back on the slot it came from, by itself, and
// says why).
func TestUpdateAB(t *testing.T) {
	// A trial boot arms softdog with unit's watchdog timeout. Under TCG
	// on a loaded 2-core host a guest has been seen starved for 20 s of
	// its own time (an RCU stall): a 30 s watchdog then resets a healthy
	// trial. These images give it 3 minutes.
	build := func(sys, format string) string {
		return buildWith(t, sys, image.Options{Format: format, Append: "unit.watchdog=180"})
	}
	v1 := build(updateSystem("release one", ""), image.FormatDisk)
	v2 := build(updateSystem("release two", ""), image.FormatUpdate)
	stuck := build(updateSystem("release two", `trial = "20s"`)+`
[service.stuck]
exec  = ["sleep", "1000"]
ready = "exec:false"
`, image.FormatUpdate)
	dies := initDiesBundle(t, v2)
	rel := func(dir string) string { return readManifest(t, dir).Release }
	r1, r2 := rel(v1), rel(v2)
	if r1 == r2 {
		t.Fatalf("both builds are release %s", r1)
	}
	bundle := func(dir string) string { return filepath.Join(dir, update.BundleName) }
	bs := serveBundles(t, map[string]string{"v2": bundle(v2), "stuck": bundle(stuck), "dies": dies})
	root, _ := readBundleManifest(t, bundle(v2)).Part(update.RootPart)
	fi, err := os.Stat(bundle(v2))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := os.Stat(filepath.Join(v1, image.DiskName)); err == nil {
		var st syscall.Stat_t
		syscall.Stat(filepath.Join(v1, image.DiskName), &st)
		t.Logf("sizes: update bundle %d bytes (root %d); disk image %d bytes (%d allocated)", fi.Size(), root.Size, d.Size(), st.Blocks*512)
	}
	// The root is the last part: stop half-way through it.
	bs.stallAt = fi.Size() - 1024 - root.Size/2

	mdir := t.TempDir()
	if err := api.EnsureMachineDir(mdir); err != nil {
		t.Fatal(err)
	}
	run := image.RunOptions{Control: api.MachineSocket(mdir), Reboot: true}
	unit := machineCLI(t, mdir, 5*time.Minute)
	wantStatus := func(re string) {
		t.Helper()
		if st := unit("status"); !regexp.MustCompile(re).MatchString(st) {
			t.Fatalf("status does not match %q:\n%s", re, st)
		}
	}
	up := `^unit: all \d+ services running`

	// First boot: slot a, generation 1, committed; slot b empty.
	vm := bootWith(t, v1, run)
	vm.Expect(up, 0, 3*time.Minute)
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r1) + ` \(slot a, generation 1, committed\)\nslot b: empty\n`)

	// A power cut while the root streams into slot b.
	cmd := exec.Command(unitBinary, "--machine", mdir, "update", bs.url("stall/v2"))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	<-bs.stalled
	sc := bufio.NewScanner(out)
	wrote := false
	for sc.Scan() {
		t.Logf("update: %s", sc.Text())
		if strings.HasPrefix(sc.Text(), "root: 30%") {
			wrote = true
			break
		}
	}
	if !wrote {
		t.Fatal("the machine never reported writing the root")
	}
	vm.kill()
	cmd.Process.Kill()
	cmd.Wait()
	cut := time.Now()
	vm = bootWith(t, v1, run)
	vm.Expect(up, 0, 3*time.Minute)
	t.Logf("after the power cut: the old slot serves again %s after qemu started", time.Since(cut).Round(time.Second))
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r1) + ` \(slot a, generation 1, committed\)\nslot b: empty\n`)

	// A bundle that is not the one pinned is refused before anything is
	// written (http has no TLS here: the pin is what makes it safe).
	wrong := strings.Repeat("0", 64)
	if out, err := exec.Command(unitBinary, "--machine", mdir, "update", "--sha256", wrong, bs.url("b/v2")).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "is not the one pinned (--sha256 "+wrong+")") {
		t.Errorf("a wrong pin: %v\n%s", err, out)
	}
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r1) + ` \(slot a, generation 1, committed\)\nslot b: empty\n`)

	// The second try, pinned: the new slot boots on trial and commits
	// itself.
	start := time.Now()
	got := unit("update", "--sha256", bundleID(t, bundle(v2)), bs.url("b/v2"))
	if !strings.Contains(got, "slot b, generation 2: rebooting into it") || !strings.Contains(got, "read back") {
		t.Errorf("update printed:\n%s", got)
	}
	from := vm.Expect(`^unit: update trial \(generation 2, release `+regexp.QuoteMeta(r2), 0, 3*time.Minute)
	vm.Expect(`^unit: update committed \(generation 2, release `+regexp.QuoteMeta(r2)+`, in slot b\)`, from, 3*time.Minute)
	t.Logf("good update: from unit update to committed in %s", time.Since(start).Round(time.Second))
	// The trial boot had a watchdog (the VM has no hardware one: softdog).
	vm.Expect(`^unit: hardware watchdog "Software Watchdog" armed, timeout 3m0s`, 0, time.Second)
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r2) + ` \(slot b, generation 2, committed\)\nslot a: generation 1, release ` + regexp.QuoteMeta(r1) + `, committed\n`)

	// Back on purpose: slot a's image, which ran before, with the next
	// generation.
	unit("update", "--rollback")
	from = vm.Expect(`^unit: power off|^unit: reboot`, from, 3*time.Minute)
	vm.Expect(up, from, 3*time.Minute)
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r1) + ` \(slot a, generation 3, committed\)\nslot b: generation 2, release ` + regexp.QuoteMeta(r2) + `, committed\n`)

	// A service that never becomes ready: the trial fails, the machine
	// says why and reboots into slot a on its own.
	start = time.Now()
	unit("update", bs.url("b/stuck"))
	from = vm.Expect(`^unit: update failed \(not running within 20s: stuck`, from, 4*time.Minute)
	from = vm.Expect(`^unit: update failed \(generation 4, .* did not commit`, from, 3*time.Minute) // said by slot a's boot
	from = vm.Expect(up, from, 3*time.Minute)
	t.Logf("an update that never got ready: back on the old slot %s after unit update", time.Since(start).Round(time.Second))
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r1) + ` \(slot a, generation 3, committed\)\nslot b: generation 4, release \S+, failed: not running within 20s: stuck`)

	// An init that dies at once: the kernel panics, reboots (panic=-1),
	// and the boot loader falls back; no unit ever judged it.
	start = time.Now()
	unit("update", bs.url("b/dies"))
	from = vm.Expect(`Kernel panic - not syncing: Attempted to kill init`, from, 4*time.Minute)
	from = vm.Expect(`^unit: update failed \(generation 5, .* did not commit \(never committed`, from, 3*time.Minute)
	vm.Expect(up, from, 3*time.Minute)
	t.Logf("an update whose init dies: back on the old slot %s after unit update", time.Since(start).Round(time.Second))
	wantStatus(`^system (running|degraded), release ` + regexp.QuoteMeta(r1) + ` \(slot a, generation 3, committed\)\nslot b: generation 5, release \S+, failed: never committed`)
	if ev := unit("status", "--json"); !strings.Contains(ev, `"state": "failed"`) {
		t.Errorf("status --json:\n%s", ev)
	}
	unit("poweroff")
	if err := vm.Wait(2 * time.Minute); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

// initDiesBundle is v2's bundle with a root whose /init exits at once:
// an image that never reaches unit.
func initDiesBundle(t *testing.T, v2 string) string {
	t.Helper()
	tmp := t.TempDir()
	tree := filepath.Join(tmp, "tree")
	if out, err := exec.Command("unsquashfs", "-q", "-d", tree, filepath.Join(v2, image.RootName)).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, out)
	}
	if err := os.Remove(filepath.Join(tree, "init")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "init"), []byte("#!/bin/sh\necho 'this init dies'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(tmp, image.RootName)
	if out, err := exec.Command("mksquashfs", tree, root, "-quiet", "-comp", "zstd", "-all-root", "-noappend").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, out)
	}
	path := filepath.Join(tmp, update.BundleName)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := readBundleManifest(t, filepath.Join(v2, update.BundleName))
	m.Release += "-init-dies"
	if _, err := update.WriteBundle(f, m, map[string]string{update.ImagePart: filepath.Join(v2, image.ManifestName),
		update.UKIPart: filepath.Join(v2, image.UKIName), update.RootPart: root}); err != nil {
		t.Fatal(err)
	}
	return path
}

func readBundleManifest(t *testing.T, path string) update.Manifest {
	t.Helper()
	return openBundle(t, path).Manifest()
}

func bundleID(t *testing.T, path string) string {
	t.Helper()
	return openBundle(t, path).ID()
}

func openBundle(t *testing.T, path string) *update.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := update.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readManifest(t *testing.T, dir string) image.Result {
	t.Helper()
	var m image.Result
	b, err := os.ReadFile(filepath.Join(dir, image.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
