package cm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// inNamespace re-runs the named test in a child with fresh namespaces, so
// mounts, the hostname and sysctls are changed for real but never on the
// host. The child sees UNIT_CM_NS_CHILD=1.
func inNamespace(t *testing.T, flags uintptr) bool {
	t.Helper()
	if os.Getenv("UNIT_CM_NS_CHILD") == "1" {
		return true
	}
	if os.Getuid() != 0 {
		t.Skip("needs root for namespaces")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "UNIT_CM_NS_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(err.Error(), "operation not permitted") {
			t.Skipf("namespaces unavailable: %v", err)
		}
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child did not pass:\n%s", out)
	}
	return false
}

func TestMountInNamespace(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNS) {
		return
	}
	// Keep our mounts from propagating back to the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(t.TempDir(), "m")
	src := "[mount.\"" + mnt + "\"]\ndevice = \"tmpfs\"\ntype = \"tmpfs\"\noptions = \"size=1m,nosuid\"\n"
	rep := applyOnce(t, loadCfg(t, src))
	if rep.Failed != 0 || !strings.Contains(rep.String(), "mounted (none) -> tmpfs (tmpfs)") {
		t.Fatalf("%s", rep)
	}
	if _, ok, _ := findMount("/proc/self/mountinfo", mnt); !ok {
		t.Fatal("not mounted")
	}
	mustNoop(t, loadCfg(t, src))
	// A different device already mounted there is an error, not a remount.
	other := "[mount.\"" + mnt + "\"]\ndevice = \"/dev/vdb\"\ntype = \"ext4\"\n"
	if rep := applyOnce(t, loadCfg(t, other)); rep.Failed != 1 || !strings.Contains(rep.String(), "not remounting") {
		t.Errorf("%s", rep)
	}
	rep = applyOnce(t, loadCfg(t, "[mount.\""+mnt+"\"]\nensure = \"unmounted\"\n"))
	if _, ok, _ := findMount("/proc/self/mountinfo", mnt); ok || rep.Failed != 0 {
		t.Fatalf("still mounted\n%s", rep)
	}
}

func TestHostnameInNamespace(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWUTS) {
		return
	}
	hf := filepath.Join(t.TempDir(), "hostname")
	cfg := loadCfg(t, "[system]\nhostname = \"cm-test-host\"\n")
	rep := applyOnce(t, cfg, WithHostname(hf))
	if h, _ := os.Hostname(); h != "cm-test-host" || !hasContent(hf, "cm-test-host\n")() {
		t.Fatalf("hostname %q\n%s", h, rep)
	}
	mustNoop(t, cfg, WithHostname(hf))
	// Without the option (a host), the machine's name is not managed.
	cfg2 := loadCfg(t, "[system]\nhostname = \"other\"\n")
	if rep := applyOnce(t, cfg2); rep.Changed() != 0 {
		t.Errorf("hostname managed without WithHostname:\n%s", rep)
	}
	if h, _ := os.Hostname(); h != "cm-test-host" {
		t.Errorf("hostname changed to %q", h)
	}
}

func TestSysctlInNetNamespace(t *testing.T) {
	if !inNamespace(t, syscall.CLONE_NEWNET) {
		return
	}
	cfg := loadCfg(t, "[sysctl.\"net.ipv4.ip_forward\"]\nvalue = \"1\"\n")
	rep := applyOnce(t, cfg)
	if !hasContent("/proc/sys/net/ipv4/ip_forward", "1\n")() || rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	mustNoop(t, cfg)
	bad := loadCfg(t, "[sysctl.\"net.ipv4.no_such_knob\"]\nvalue = \"1\"\n")
	if rep := applyOnce(t, bad); rep.Failed != 1 {
		t.Errorf("%s", rep)
	}
}
