package supervise

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// A syslog line is the log of the service whose process sent it, a
// child included; a process of no service is no service's.
func TestOwnerOf(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"a": {Exec: sh("sleep 100 & echo child $!; wait")},
		"b": {Exec: sh("sleep 100 & echo child $!; wait")},
	})
	child := func(name string) int {
		line := h.waitLog(name, func(s string) bool { return strings.HasPrefix(s, "child ") })
		pid, err := strconv.Atoi(strings.TrimPrefix(line, "child "))
		if err != nil {
			t.Fatalf("%s: %q", name, line)
		}
		return pid
	}
	for _, name := range []string{"a", "b"} {
		pid := child(name)
		if got, ok := h.s.OwnerOf(h.ctx, pid); !ok || got != name {
			t.Errorf("OwnerOf(%d, a child of %s) = %q, %v", pid, name, got, ok)
		}
		if got, ok := h.s.OwnerOf(h.ctx, h.status(name).PID); !ok || got != name {
			t.Errorf("OwnerOf(main of %s) = %q, %v", name, got, ok)
		}
	}
	if got, ok := h.s.OwnerOf(h.ctx, os.Getpid()); ok {
		t.Errorf("the test process is owned by %q", got)
	}
	h.s.AddLine("a", "from syslog")
	lines, err := h.s.Logs("a", 1)
	if err != nil || len(lines) != 1 || lines[0].Text != "from syslog" {
		t.Errorf("Logs(a) = %v, %v", lines, err)
	}
}
