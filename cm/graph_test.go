package cm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCycleThroughAutomaticEdge(t *testing.T) {
	d := filepath.Join(t.TempDir(), "a")
	// The dir comes before its file automatically; requiring the file from
	// the dir closes a loop.
	cfg := loadCfg(t, "[dir.\""+d+"\"]\nrequires = [\"file:"+d+"/x\"]\n[file.\""+d+"/x\"]\ncontent = \"x\"\n")
	_, err := ApplyOnce(context.Background(), cfg, false, quietLog())
	want := "dependency cycle (with automatic edges): dir:" + d + " -> file:" + d + "/x -> dir:" + d
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "a.toml:1") {
		t.Fatalf("got %v\nwant %q at a.toml:1", err, want)
	}
}

// slow delays Apply and records concurrency and start order.
type slow struct {
	Resource
	cur, peak *atomic.Int64
	mu        *sync.Mutex
	order     *[]string
}

func (s slow) Apply(ctx context.Context) ([]Delta, error) {
	n := s.cur.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	s.mu.Lock()
	*s.order = append(*s.order, s.ID())
	s.mu.Unlock()
	time.Sleep(40 * time.Millisecond)
	defer s.cur.Add(-1)
	return s.Resource.Apply(ctx)
}

func TestParallelBranchesDependencyOrder(t *testing.T) {
	root := t.TempDir()
	src := ""
	for _, b := range []string{"b1", "b2", "b3", "b4"} {
		src += "[dir.\"" + root + "/" + b + "\"]\n"
		for _, f := range []string{"f1", "f2"} {
			src += "[file.\"" + root + "/" + b + "/" + f + "\"]\ncontent = \"x\"\n"
		}
	}
	var cur, peak atomic.Int64
	var mu sync.Mutex
	var order []string
	wrap := withWrap(func(r Resource) Resource { return slow{r, &cur, &peak, &mu, &order} })
	start := time.Now()
	rep := applyOnce(t, loadCfg(t, src), wrap)
	took := time.Since(start)
	if rep.Failed != 0 || rep.Changed() != 12 {
		t.Fatalf("%s", rep)
	}
	if peak.Load() < 2 || took > 12*40*time.Millisecond/2 {
		t.Errorf("not parallel: peak %d, took %s for 12 × 40ms", peak.Load(), took)
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for _, b := range []string{"b1", "b2", "b3", "b4"} {
		for _, f := range []string{"f1", "f2"} {
			if pos["file:"+root+"/"+b+"/"+f] < pos["dir:"+root+"/"+b] {
				t.Errorf("file before its dir: %v", order)
			}
		}
	}
}

func TestFailedDependencySkipsDependents(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "notadir"), []byte("x"), 0o644)
	cfg := loadCfg(t, "[dir.\""+root+"/notadir\"]\n[file.\""+root+"/other\"]\ncontent = \"x\"\nrequires = [\"dir:"+root+"/notadir\"]\n")
	rep := applyOnce(t, cfg)
	if rep.Failed != 1 || rep.Skipped != 1 || !strings.Contains(rep.String(), "skipped: dependency dir:"+root+"/notadir failed") {
		t.Fatalf("%s", rep)
	}
}

type fakeSvc struct {
	mu              sync.Mutex
	state           string
	starts, restart []string
}

func (f *fakeSvc) Restart(_ context.Context, n string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restart = append(f.restart, n)
	return nil
}
func (f *fakeSvc) Start(_ context.Context, n string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, n)
	f.state = "running"
	return nil
}
func (f *fakeSvc) State(context.Context, string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, nil
}

func TestServiceResourceAndNotifyOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "web.conf")
	svc := &fakeSvc{state: "stopped"}
	cfg := loadCfg(t, "[service.web]\nexec = [\"/bin/true\"]\n[file.\""+p+"\"]\ncontent = \"x\"\nnotify = [\"service:web\"]\n")
	rep := applyOnce(t, cfg, WithServices(svc))
	// Started in this pass, after the file: no restart on top.
	if len(svc.starts) != 1 || len(svc.restart) != 0 || !strings.Contains(rep.String(), "service:web: state stopped -> running") {
		t.Fatalf("starts %v restarts %v\n%s", svc.starts, svc.restart, rep)
	}
	rep = applyOnce(t, cfg, WithServices(svc))
	if len(svc.restart) != 0 || rep.Changed() != 0 {
		t.Errorf("no-op restarted: %v\n%s", svc.restart, rep)
	}
	os.WriteFile(p, []byte("drift"), 0o644)
	rep = applyOnce(t, cfg, WithServices(svc))
	if len(svc.restart) != 1 || !strings.Contains(rep.String(), "service:web: restarted (notified by file:"+p+")") {
		t.Errorf("restarts %v\n%s", svc.restart, rep)
	}
}

// A service coming up converges what requires it again: here an exec that
// can only succeed once the "database" is ready.
func TestServiceUpReconvergesDependents(t *testing.T) {
	dir := t.TempDir()
	ready, done := filepath.Join(dir, "ready"), filepath.Join(dir, "done")
	svc := &fakeSvc{state: "starting"}
	rec := &recorder{}
	e := start(t, WithServices(svc), WithEvents(rec.emit))
	e.SetConfig(loadCfg(t, "[service.db]\nexec = [\"/bin/true\"]\n[exec.initdb]\ncommand = [\"/bin/sh\", \"-c\", \"test -e "+ready+" && touch "+done+"\"]\ncreates = \""+done+"\"\nrequires = [\"service:db\"]\n"))
	waitFor(t, "first attempt fails", func() bool { return rec.hasEvent("exec:initdb", "failed") })
	os.WriteFile(ready, nil, 0o644)
	time.Sleep(50 * time.Millisecond)
	if _, err := os.Stat(done); err == nil {
		t.Fatal("ran without an event")
	}
	e.ServiceEvent("db", "stopping") // not an "up" state: ignored
	e.ServiceEvent("db", "running")
	waitFor(t, "initdb ran after db came up", func() bool { _, err := os.Stat(done); return err == nil })
}

// A notify reaches only a service that is up (systemd's try-restart): one
// still waiting for what it requires, or in backoff, reads the new file when
// it starts, and restarting it would start it out of order.
func TestNotifySkipsServiceNotUp(t *testing.T) {
	for _, state := range []string{"waiting", "backoff", "failed"} {
		p := filepath.Join(t.TempDir(), "web.conf")
		svc := &fakeSvc{state: state}
		cfg := loadCfg(t, "[service.web]\nexec = [\"/bin/true\"]\nenabled = false\n[file.\""+p+"\"]\ncontent = \"x\"\nnotify = [\"service:web\"]\n")
		rep := applyOnce(t, cfg, WithServices(svc))
		if len(svc.restart) != 0 || len(svc.starts) != 0 {
			t.Errorf("%s: restarts %v starts %v\n%s", state, svc.restart, svc.starts, rep)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: file not written: %v", state, err)
		}
	}
}

// A service that requires net:eth0 (and a file) converges after them; the
// supervisor's own requires keep only the services.
func TestServiceRequiresNetOrdersGraph(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	cfg := loadCfg(t, `[net.eth0]
addresses = ["10.9.0.2/24"]
[file."`+f+`"]
content = "x"
[service.db]
exec = ["sleep", "1"]
[service.web]
exec = ["sleep", "1"]
requires = ["db", "net:eth0", "file:`+f+`"]
`)
	p, err := buildPlan(cfg, defaultEnv())
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []string{"net:eth0", "file:" + f, "service:db"} {
		if p.g.pos[before] >= p.g.pos["service:web"] {
			t.Errorf("%s is not before service:web in %v", before, p.g.order)
		}
	}
	if got := strings.Join(p.g.preds["service:web"], " "); got != "service:db net:eth0 file:"+f {
		t.Errorf("service:web preds %q", got)
	}
}

// The ids' heap pops them smallest first, whatever order they came in.
func TestStrHeap(t *testing.T) {
	in := []string{"m", "c", "x", "a", "q", "b", "z", "k", "d"}
	h := &strHeap{}
	for _, s := range in {
		h.push(s)
	}
	var out []string
	for len(*h) > 0 {
		out = append(out, h.pop())
		if len(out) == 3 {
			h.push("aa")
		}
	}
	if got := strings.Join(out, " "); got != "a b c aa d k m q x z" {
		t.Errorf("popped %s", got)
	}
}
