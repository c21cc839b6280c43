package supervise

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// A program that exists but whose interpreter does not fails to start with
// a message naming the interpreter, not a bare "no such file or directory".
func TestMissingInterpreterNamed(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/nonexistent/bin/interp -x\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	services := map[string]*config.Service{
		"script": {Exec: []string{script}, Restart: config.RestartNever},
		// With umask the service starts through unit's exec setup, which
		// execs the program itself: the same message.
		"setup": {Exec: []string{script}, Restart: config.RestartNever, Umask: "0022"},
	}
	want := map[string]string{
		"script": "its #! interpreter /nonexistent/bin/interp does not",
	}
	if gcc, err := exec.LookPath("gcc"); err == nil {
		src := filepath.Join(dir, "m.c")
		bin := filepath.Join(dir, "elfprog")
		os.WriteFile(src, []byte("int main(void){return 0;}\n"), 0o644)
		if out, err := exec.Command(gcc, "-o", bin, src, "-Wl,--dynamic-linker=/nonexistent/ld.so").CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
		services["elf"] = &config.Service{Exec: []string{bin}, Restart: config.RestartNever}
		want["elf"] = "its ELF interpreter /nonexistent/ld.so does not"
	}
	h := newHarness(t)
	h.set(services)
	for name, w := range want {
		h.rec.wait(t, name, StateFailed)
		st := h.status(name)
		msg := st.Reason + " " + st.LastExit
		if !strings.Contains(msg, w) {
			t.Errorf("%s: %q, want %q", name, msg, w)
		}
	}
	// The exec setup reports on the service's output and exits 127. Follow
	// before reading the backlog, so the line is seen wherever it falls.
	lines, stop, err := h.s.Follow("setup")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	h.rec.wait(t, "setup", StateExited)
	if st := h.status("setup"); st.LastExit != "exit 127" {
		t.Errorf("setup: last exit %q", st.LastExit)
	}
	w := "its #! interpreter /nonexistent/bin/interp does not"
	backlog, _ := h.s.Logs("setup", 0)
	if strings.Contains(strings.Join(texts(backlog), "\n"), w) {
		return
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l.Text, w) {
				return
			}
		case <-deadline:
			t.Fatalf("setup's output %q lacks %q", texts(backlog), w)
		}
	}
}

func TestInterpreterOf(t *testing.T) {
	// Debian's /bin/sh is dynamically linked: its interpreter is ld.so.
	if got, kind := interpreterOf("/bin/sh"); !strings.HasSuffix(got, "ld-linux-x86-64.so.2") || kind != "ELF interpreter" {
		t.Errorf("/bin/sh: %q %q", got, kind)
	}
	script := filepath.Join(t.TempDir(), "s")
	os.WriteFile(script, []byte("#!/usr/bin/env python3 -u\n"), 0o755)
	if got, kind := interpreterOf(script); got != "/usr/bin/env" || kind != "#! interpreter" {
		t.Errorf("script: %q %q", got, kind)
	}
	if got, _ := interpreterOf("/nonexistent"); got != "" {
		t.Errorf("missing file: %q", got)
	}
}
