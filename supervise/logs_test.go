package supervise

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// follow subscribes to name's output and returns a function that collects
// lines until one satisfies last.
func follow(t *testing.T, h *harness, name string) func(last func(string) bool) []string {
	ch, cancel, err := h.s.Follow(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return func(last func(string) bool) []string {
		t.Helper()
		var got []string
		deadline := time.After(waitTimeout)
		for {
			select {
			case l := <-ch:
				got = append(got, l.Text)
				if last(l.Text) {
					return got
				}
			case <-deadline:
				t.Fatalf("%s: no final line; got %q", name, got)
			}
		}
	}
}

func is(s string) func(string) bool { return func(t string) bool { return t == s } }

func TestLogsOrderAndLimit(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"talk": {Exec: sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2; exec sleep 100"), Enabled: disabled()},
	})
	next := follow(t, h, "talk")
	if err := h.s.Start(h.ctx, "talk"); err != nil {
		t.Fatal(err)
	}
	want := []string{"out1", "err1", "out2", "err2"}
	if got := next(is("err2")); !reflect.DeepEqual(got, want) {
		t.Errorf("followed %q, want %q", got, want)
	}
	all, err := h.s.Logs("talk", 0)
	if err != nil || !reflect.DeepEqual(texts(all), want) {
		t.Errorf("Logs(0) = %q, %v", texts(all), err)
	}
	if last, _ := h.s.Logs("service:talk", 2); !reflect.DeepEqual(texts(last), want[2:]) {
		t.Errorf("Logs(2) = %q", texts(last))
	}
	if _, err := h.s.Logs("nope", 1); err == nil {
		t.Error("Logs of an unknown service succeeded")
	}
}

func TestLogsRingWraps(t *testing.T) {
	h := newHarness(t, WithLogLines(5))
	h.set(map[string]*config.Service{
		"many": {Exec: sh("for i in 1 2 3 4 5 6 7 8; do echo line$i; done; exec sleep 100"), Enabled: disabled()},
	})
	next := follow(t, h, "many")
	if err := h.s.Start(h.ctx, "many"); err != nil {
		t.Fatal(err)
	}
	next(is("line8"))
	all, _ := h.s.Logs("many", 0)
	if want := []string{"line4", "line5", "line6", "line7", "line8"}; !reflect.DeepEqual(texts(all), want) {
		t.Errorf("Logs = %q, want %q", texts(all), want)
	}
	if last, _ := h.s.Logs("many", 100); len(last) != 5 {
		t.Errorf("Logs(100) returned %d lines", len(last))
	}
}

// A 100 KiB line without a newline is split, not fatal: the service keeps
// running and what follows it still arrives.
func TestLogsLongLine(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"long": {Exec: sh("head -c 102400 /dev/zero | tr '\\0' x; echo; echo after; exec sleep 100"), Enabled: disabled()},
	})
	next := follow(t, h, "long")
	if err := h.s.Start(h.ctx, "long"); err != nil {
		t.Fatal(err)
	}
	got := next(is("after"))
	n := 0
	for _, l := range got[:len(got)-1] {
		n += len(l)
		if strings.Trim(l, "x") != "" {
			t.Fatalf("unexpected line %q", l)
		}
	}
	if n != 102400 {
		t.Errorf("%d bytes of the long line, want 102400", n)
	}
	_, e := h.rec.waitFrom(t, 0, "long", StateRunning)
	if st := h.status("long"); st.State != StateRunning || st.PID != e.Fields["pid"] {
		t.Errorf("service did not survive its long line: %+v", st)
	}
}

// PID 1's log joins the ring "unit" line by line; a line that never ends
// is split at maxLine, as a service's output is.
func TestLogWriterLines(t *testing.T) {
	h := newHarness(t)
	w := h.s.LogWriter("unit")
	io.WriteString(w, "one\ntw")
	io.WriteString(w, "o\n"+strings.Repeat("x", maxLine+1))
	lines, err := h.s.Logs("unit", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(lines); len(got) != 3 || got[0] != "one" || got[1] != "two" || len(got[2]) != maxLine+1 {
		t.Errorf("lines %q", got)
	}
}
