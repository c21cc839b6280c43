package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/unit-os/unit/supervise"
)

// The boot line counts what is running and ready and names what is not,
// with its exit status or signal (three Debian daemons that exited 1 at
// boot were once "all 3 services running").
func TestBootSummary(t *testing.T) {
	svc := func(name, state, lastExit, reason string) supervise.Status {
		return supervise.Status{Name: name, State: state, LastExit: lastExit, Reason: reason, Enabled: true}
	}
	off := svc("getty", "stopped", "", "")
	off.Enabled = false
	for _, tc := range []struct {
		name string
		sts  []supervise.Status
		want string
	}{
		{"all up", []supervise.Status{svc("web", "running", "", ""), svc("once", "exited", "exit 0", "exit 0"), off},
			"all 2 services running 9.36s after kernel start (1250 ms after /init)"},
		{"none", nil, "all 0 services running 9.36s after kernel start (1250 ms after /init)"},
		{"three exited 1", []supervise.Status{svc("nginx", "exited", "exit 1", "exit 1"), svc("unbound", "exited", "exit 1", "exit 1"), svc("chrony", "exited", "exit 1", "exit 1")},
			"0 of 3 services running; nginx exited 1, unbound exited 1, chrony exited 1 (9.36s after kernel start)"},
		{"one of three", []supervise.Status{svc("nginx", "running", "", ""), svc("sshd", "running", "", ""), svc("unbound", "exited", "exit 1", "exit 1")},
			"2 of 3 services running; unbound exited 1 (9.36s after kernel start)"},
		{"signal", []supervise.Status{svc("db", "exited", "signal SIGSEGV", "signal SIGSEGV")},
			"0 of 1 services running; db killed by SIGSEGV (9.36s after kernel start)"},
		{"killed by unit", []supervise.Status{svc("app", "exited", "health check failed 3 times (dial tcp: refused): signal SIGKILL", "")},
			"0 of 1 services running; app killed by SIGKILL (health check failed 3 times (dial tcp: refused)) (9.36s after kernel start)"},
		{"not ready", []supervise.Status{svc("web", "running", "", ""), svc("api", "starting", "", "")},
			"1 of 2 services running; api not ready (9.36s after kernel start)"},
		{"failed and waiting", []supervise.Status{svc("db", "failed", "exit 2", "crash loop: exit 2"), svc("app", "waiting", "", "requires db (failed)")},
			"0 of 2 services running; db failed (crash loop: exit 2), app waiting (requires db (failed)) (9.36s after kernel start)"},
		{"status unknown", []supervise.Status{svc("x", "exited", "exit status unknown", "")},
			"0 of 1 services running; x exited (exit status unknown) (9.36s after kernel start)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, down := settledOf(tc.sts)
			if got := BootSummary(up, down, 9.36, 1.25); got != tc.want {
				t.Errorf("\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// lines is a console that several goroutines write to; it signals when a
// line that matches arrives.
type lines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	match func(string) bool
	seen  chan struct{}
	once  sync.Once
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for _, line := range strings.Split(string(p), "\n") {
		if l.match(line) {
			l.once.Do(func() { close(l.seen) })
		}
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// The boot's summary reaches the console after every service's own line:
// it goes through the bus the services' events went through before the
// boot settled, and one printer prints them in order.
func TestBootSummaryAfterServiceLines(t *testing.T) {
	dir := t.TempDir()
	var cfg strings.Builder
	var names []string
	for i := range 8 {
		name := fmt.Sprintf("s%d", i)
		names = append(names, name)
		fmt.Fprintf(&cfg, "[service.%s]\nexec = [\"sleep\", \"1000\"]\n\n", name)
	}
	cfg.WriteString("[service.bad]\nexec = [\"sh\", \"-c\", \"exit 1\"]\nrestart = \"never\"\n")
	if err := os.WriteFile(filepath.Join(dir, "a.toml"), []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	console := &lines{seen: make(chan struct{}), match: func(s string) bool { return strings.Contains(s, "services running") }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigDir: dir, StateDir: t.TempDir(), Console: console,
			Log:     slog.New(slog.DiscardHandler),
			OnReady: func(up int, down []string) string { return BootSummary(up, down, 1, 0.5) }})
	}()
	select {
	case <-console.seen:
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, console)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	out := console.String()
	const want = "unit: 8 of 9 services running; bad exited 1 (1.00s after kernel start)\n"
	at := strings.Index(out, want)
	if at < 0 {
		t.Fatalf("no line %q on the console:\n%s", want, out)
	}
	// bad wrote nothing, so its line does not race its output's pump.
	if why := "unit: bad exited 1: nothing on stdout or stderr\n"; !strings.HasPrefix(out[at+len(want):], why) {
		t.Errorf("no line %q right under the summary:\n%s", why, out)
	}
	for _, line := range append([]string{"unit: service:bad exited"}, func() (l []string) {
		for _, n := range names {
			l = append(l, "unit: service:"+n+" running")
		}
		return l
	}()...) {
		if i := strings.Index(out, line); i < 0 || i > at {
			t.Errorf("%q is not before the summary:\n%s", line, out)
		}
	}
}

// A service that exited at boot gets one console line under the summary
// with the last thing it said, so the reason is on the console and not
// only in `unit logs` (three Debian daemons once exited 1 saying nothing
// there).
func TestExitedLine(t *testing.T) {
	svc := func(name, state, lastExit, reason string) supervise.Status {
		return supervise.Status{Name: name, State: state, LastExit: lastExit, Reason: reason, Enabled: true}
	}
	log := func(texts ...string) (l []supervise.LogLine) {
		for _, s := range texts {
			l = append(l, supervise.LogLine{Text: s})
		}
		return l
	}
	long := strings.Repeat("é", 200)
	for _, tc := range []struct {
		name string
		st   supervise.Status
		log  []supervise.LogLine
		want string // "": no line
	}{
		{"exited 1", svc("unbound", "exited", "exit 1", "exit 1"), log("starting", "  cannot open /etc/foo.conf  ", "", " "),
			"unbound exited 1: cannot open /etc/foo.conf"},
		{"silent", svc("haproxy", "exited", "exit 1", "exit 1"), nil,
			"haproxy exited 1: nothing on stdout or stderr"},
		{"crash loop", svc("db", "failed", "exit 2", "crash loop: exit 2"), log("db: bad page"),
			"db failed (crash loop: exit 2): db: bad page"},
		{"signal", svc("app", "exited", "signal SIGSEGV", ""), log("x"), "app killed by SIGSEGV: x"},
		{"trimmed", svc("x", "exited", "exit 1", ""), log(long), "x exited 1: " + strings.Repeat("é", maxWhyLine-1) + "…"},
		{"one-shot done", svc("once", "exited", "exit 0", "exit 0"), log("done"), ""},
		{"running", svc("web", "running", "", ""), log("up"), ""},
		{"not ready", svc("api", "starting", "", ""), log("loading"), ""},
		{"waiting", svc("app", "waiting", "", "requires db (failed)"), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := exitedLine(tc.st, tc.log)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("\ngot  %q %v\nwant %q", got, ok, tc.want)
			}
		})
	}
}
