package cm

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/safepath"
)

// A change of the platform facts file reloads the config: a template that
// reads .facts.platform is rendered again. Other files in the directory
// (the control socket, the fleet token, anybody's temp file) reload
// nothing and touch nothing.
func TestPlatformFactsReload(t *testing.T) {
	cdir, data, run := t.TempDir(), t.TempDir(), t.TempDir()
	facts := filepath.Join(run, "platform.json")
	writeFacts := func(role string) {
		t.Helper()
		if err := safepath.WriteFile(facts, []byte(`{"role":"`+role+`","seed":"nocloud"}`), 0o644, -1, -1); err != nil {
			t.Fatal(err)
		}
	}
	writeFacts("web")
	out, barrier := filepath.Join(data, "role.conf"), filepath.Join(data, "barrier")
	src := "[file.\"" + out + "\"]\ntemplate = \"role={{.facts.platform.role}}\\n\"\n" +
		"[file.\"" + barrier + "\"]\ncontent = \"b\"\n"
	if err := os.WriteFile(filepath.Join(cdir, "10.toml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cdir)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logLines{}
	rec := &recorder{}
	e := start(t, WithLogger(slog.New(logs)), WithEvents(rec.emit),
		WithConfigDir(cdir, nil), WithPlatformFacts(facts))
	e.SetConfig(cfg)
	waitFor(t, "rendered with role=web", hasContent(out, "role=web\n"))

	writeFacts("db")
	waitFor(t, "rendered again with role=db", hasContent(out, "role=db\n"))
	if !rec.hasEvent("config", "reloaded") {
		t.Error("no config reload for the new facts")
	}

	// Unrelated names in the facts' directory. Then drift of a managed
	// file: inotify keeps order, so once it is repaired the loop has
	// taken every event before it.
	before, reloads := stat(t, out), logs.count("platform facts changed")
	sock, err := net.Listen("unix", filepath.Join(run, "unit.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if err := safepath.WriteFile(filepath.Join(run, "fleet.token"), []byte("secret"), 0o600, -1, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "platform.json.bak"), []byte(`{"role":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(barrier, []byte("drift"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "barrier repaired", hasContent(barrier, "b"))
	if n := logs.count("platform facts changed"); n != reloads {
		t.Errorf("unrelated files in %s scheduled %d reloads:\n%s", run, n-reloads, logs)
	}
	after := stat(t, out)
	if after.Ino != before.Ino || after.Mtim != before.Mtim || !hasContent(out, "role=db\n")() {
		t.Errorf("%s touched by unrelated files: inode %d→%d, mtime %v→%v", out, before.Ino, after.Ino, before.Mtim, after.Mtim)
	}

	// Gone: the template's key is missing, which fails it and says so.
	if err := os.Remove(facts); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "role.conf failing on the missing key", func() bool {
		for _, f := range e.Failing() {
			if f.Resource == "file:"+out && strings.Contains(f.Error, "role") {
				return true
			}
		}
		return false
	})
	writeFacts("ops")
	waitFor(t, "rendered with role=ops", hasContent(out, "role=ops\n"))
}

// Only the facts file's own name is a platform event, and only for an
// engine that reloads and gathers its facts.
func TestIsPlatformEvent(t *testing.T) {
	e := New(WithConfigDir("/etc/unit", nil), WithPlatformFacts("/run/unit//platform.json"))
	for name, want := range map[string]bool{
		"/run/unit/platform.json":                  true,
		"/run/unit/unit.sock":                      false,
		"/run/unit/fleet.token":                    false,
		"/run/unit/.platform.json.unit-tmp-0a1b2c": false,
		"/run/unit/platform.json.bak":              false,
		"/run/platform.json":                       false,
		"/etc/unit/platform.json":                  false,
	} {
		if got := e.isPlatformEvent(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	for what, e := range map[string]*Engine{
		"no config dir": New(WithPlatformFacts("/run/unit/platform.json")),
		"fixed facts":   New(WithConfigDir("/etc/unit", nil), WithFacts(&Facts{})),
		"no facts file": New(WithConfigDir("/etc/unit", nil), WithPlatformFacts("")),
	} {
		if e.isPlatformEvent("/run/unit/platform.json") {
			t.Errorf("%s: the facts file reloads", what)
		}
	}
}

// logLines is a slog handler that keeps every line, for decisions the
// engine only logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }

func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return nil
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
