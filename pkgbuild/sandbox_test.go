package pkgbuild

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSandboxIsolation builds a recipe whose steps probe the sandbox and
// write what they found into the keg: the host's loopback listener is out
// of reach (a new, empty network namespace), the host toolchain is
// read-only, the environment is the build's own, and the build is PID 1's
// child in a new pid namespace.
func TestSandboxIsolation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	probe := `if exec 3<>/dev/tcp/127.0.0.1/` + port + `; then echo connected; else echo unreachable; fi`

	// The same probe on the host connects: the test can fail.
	if out, err := exec.Command("bash", "-c", probe).CombinedOutput(); err != nil || !strings.Contains(string(out), "connected") {
		t.Fatalf("host probe: %v %s", err, out)
	}
	<-accepted

	t.Setenv("UNIT_TEST_SECRET", "leak")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"probe.toml": `name = "probe"
version = "1"
steps = [
  ["bash", "-c", "` + probe + ` > $OUT/net 2>/dev/null"],
  ["sh", "-c", "if touch /usr/unit-sandbox-probe 2>/dev/null; then echo writable; else echo read-only; fi > $OUT/usr"],
  ["sh", "-c", "env | sort > $OUT/env"],
  ["sh", "-c", "echo $$ > $OUT/pid; hostname > $OUT/hostname; ls /home /deps 2>&1 | head -3 > $OUT/ls"],
  ["sh", "-c", "grep CapEff /proc/self/status > $OUT/caps"],
  ["sh", "-c", "touch $HOME/x $TMPDIR/x && echo writable > $OUT/home; touch /x 2>/dev/null && echo root-writable >> $OUT/home; true"],
  ["sh", "-c", "if [ -e ` + dir + `/probe.toml ] || [ -e /root ] || [ -e /var/lib ]; then echo visible; else echo hidden; fi > $OUT/host"],
]
`})
	b, _ := testBuilder(t, 1)
	res := build(t, b, filepath.Join(dir, "probe.toml"))
	keg := res["probe"].Keg.Dir
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(keg, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(data))
	}
	if got := read("net"); got != "unreachable" {
		t.Errorf("network from the sandbox: %q, want unreachable", got)
	}
	select {
	case <-accepted:
		t.Error("the host listener accepted a connection from the sandbox")
	default:
	}
	if got := read("usr"); got != "read-only" {
		t.Errorf("host /usr in the sandbox is %s", got)
	}
	if _, err := os.Stat("/usr/unit-sandbox-probe"); err == nil {
		os.Remove("/usr/unit-sandbox-probe")
		t.Error("the sandbox wrote into the host's /usr")
	}
	env := read("env")
	if strings.Contains(env, "UNIT_TEST_SECRET") {
		t.Errorf("host environment leaked into the build:\n%s", env)
	}
	for _, want := range []string{"HOME=/home/build", "TMPDIR=/tmp", "SOURCE_DATE_EPOCH=315532800", "-ffile-prefix-map=/build=."} {
		if !strings.Contains(env, want) {
			t.Errorf("build env lacks %s:\n%s", want, env)
		}
	}
	if pid, _ := strconv.Atoi(read("pid")); pid <= 1 || pid > 20 {
		t.Errorf("build step pid %d: want a small pid in a new pid namespace", pid)
	}
	if got := read("host"); got != "hidden" {
		t.Errorf("host paths outside the toolchain are %s in the sandbox", got)
	}
	if got := read("home"); got != "writable" {
		t.Errorf("HOME and TMPDIR writable, / read-only: got %q", got)
	}
	if got := read("hostname"); got != "build" {
		t.Errorf("hostname %q", got)
	}
	if got := read("caps"); !strings.HasSuffix(got, "0000000000000000") {
		t.Errorf("build steps have capabilities: %s", got)
	}
}
