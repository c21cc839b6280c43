package supervise

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
)

// The namespace keys need root (CLONE_NEWNS, mounts); these tests run
// services on the host in namespaces of their own and look from outside.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mount namespaces")
	}
}

// private_tmp: the service's /tmp and /var/tmp are its own, shared by
// exec_pre and exec ("+" runs outside), gone once it stopped; the host's
// /tmp never sees what it wrote. The service's user and ambient
// capabilities are taken after the mounts.
func TestNamespacePrivateTmp(t *testing.T) {
	needRoot(t)
	name := "unit-nstest-" + filepath.Base(filepath.Dir(t.TempDir()))
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"tmp": {PrivateTmp: true, Oneshot: true, Restart: config.RestartNever, User: "65534", Capabilities: []string{"CAP_NET_BIND_SERVICE"},
			ExecPre: cmds(sh("echo pre > /tmp/"+name+"; echo var > /var/tmp/"+name),
				[]string{"+/bin/sh", "-c", "test -e /tmp/" + name + " || echo plus-outside"}),
			Exec: sh("cat /tmp/" + name + " /var/tmp/" + name + "; ls -ld /tmp | cut -c1-10; id -u; grep CapAmb /proc/self/status")},
	})
	h.rec.wait(t, "tmp", StateExited)
	h.waitLog("tmp", func(l string) bool { return strings.HasPrefix(l, "CapAmb:") }) // its last line: the pump may still read
	logs := logTexts(h, "tmp")
	for _, want := range []string{"pre", "var", "plus-outside", "drwxrwxrwt", "65534", "CapAmb:\t0000000000000400"} {
		if !slices.Contains(logs, want) {
			t.Errorf("log lacks %q: %q", want, logs)
		}
	}
	if st := h.status("tmp"); st.LastExit != "exit 0" {
		t.Errorf("tmp: %+v", st)
	}
	for _, p := range []string{"/tmp/" + name, "/var/tmp/" + name} {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			t.Errorf("%s is on the host", p)
		}
	}
	if left, _ := filepath.Glob("/tmp/unit-private-tmp-*"); len(left) > 0 {
		t.Errorf("private tmp left after the stop: %q", left)
	}
}

// protect_system: /usr read-only inside, writable outside; "full" adds
// /etc; "strict" leaves read_write_paths and the service's dirs
// writable; read_only_paths and bind_read_only_paths are read-only; an
// optional ("-") missing path is skipped.
func TestNamespaceReadOnly(t *testing.T) {
	needRoot(t)
	if unix.Access("/usr", unix.W_OK) != nil || unix.Access("/etc", unix.W_OK) != nil {
		t.Skip("/usr or /etc is read-only on the host")
	}
	src, dst, rw, ro := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(p string) string {
		return "if test -w " + p + "; then echo " + p + " rw; else echo " + p + " ro; fi; "
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"yes": {ProtectSystem: "yes", Oneshot: true, Restart: config.RestartNever,
			BindReadOnlyPaths: []string{src + ":" + dst, "-/nonexistent-unit-test:/mnt/x"},
			Exec:              sh(check("/usr") + check("/etc") + check(dst) + check(src) + "cat " + dst + "/f")},
		"full": {ProtectSystem: "full", Oneshot: true, Restart: config.RestartNever, ReadOnlyPaths: []string{ro, "-/nonexistent-unit-test"},
			Exec: sh(check("/usr") + check("/etc") + check(ro) + check(rw))},
		"strict": {ProtectSystem: "strict", Oneshot: true, Restart: config.RestartNever, ReadWritePaths: []string{rw},
			Exec: sh(check("/usr") + check("/var") + check(rw) + check("/dev/null"))},
	})
	for name, want := range map[string][]string{
		"yes":    {"/usr ro", "/etc rw", dst + " ro", src + " rw", "bound"},
		"full":   {"/usr ro", "/etc ro", ro + " ro", rw + " rw"},
		"strict": {"/usr ro", "/var ro", rw + " rw", "/dev/null rw"},
	} {
		h.rec.wait(t, name, StateExited)
		// The log pump may still be reading what the service wrote before
		// it exited: wait for a line about each path, then judge them all.
		for _, w := range want {
			what := strings.Fields(w)[0]
			h.waitLog(name, func(l string) bool { return strings.HasPrefix(l, what) })
		}
		logs := logTexts(h, name)
		for _, w := range want {
			if !slices.Contains(logs, w) {
				t.Errorf("%s: log lacks %q: %q", name, w, logs)
			}
		}
	}
	if err := unix.Access("/usr", unix.W_OK); err != nil {
		t.Errorf("/usr on the host: %v", err)
	}
	if _, err := os.Stat("/mnt/x"); err == nil {
		t.Error("an optional bind's target was made")
	}
}

// A required path that is missing fails the start, and the status says
// which key and path.
func TestNamespaceMissingPathFailsStart(t *testing.T) {
	needRoot(t)
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"miss": {BindReadOnlyPaths: []string{"/nonexistent-unit-test:/mnt"}, Exec: sh("echo ran"), Restart: config.RestartNever},
	})
	h.rec.wait(t, "miss", StateFailed)
	st := h.status("miss")
	if want := "bind_read_only_paths: stat /nonexistent-unit-test: no such file or directory"; !strings.Contains(st.Reason, want) {
		t.Errorf("reason %q, want %q", st.Reason, want)
	}
	if slices.Contains(logTexts(h, "miss"), "ran") {
		t.Error("the service ran")
	}
}
