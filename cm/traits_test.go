package cm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Each kind declares the traits the engine acts on (the engine names no
// kind): a service restarts, an exec runs long, a net resource is retried,
// a template reads the facts.
func TestKindsDeclareTraits(t *testing.T) {
	dir := t.TempDir()
	tmpl, plain := filepath.Join(dir, "tmpl"), filepath.Join(dir, "plain")
	p, err := New(quietLog()).build(loadCfg(t, `
[service.web]
exec = ["/bin/true"]

[exec.x]
command = ["/bin/true"]

[net.eth0]
addresses = ["10.0.0.1/24"]

[file."`+tmpl+`"]
template = "{{.facts.cpus}}"

[file."`+plain+`"]
content = "x"
`))
	if err != nil {
		t.Fatal(err)
	}
	type traits struct{ restarts, runsLong, retried, readsFacts bool }
	of := func(r Resource) traits { return traits{restarts(r), runsLong(r), retried(r), readsFacts(r)} }
	for id, want := range map[string]traits{
		"service:web":   {restarts: true},
		"exec:x":        {runsLong: true},
		"net:eth0":      {retried: true},
		"file:" + tmpl:  {readsFacts: true},
		"file:" + plain: {},
	} {
		r := p.res[id]
		if r == nil {
			t.Fatalf("no %s in the plan", id)
		}
		if got := of(r); got != want {
			t.Errorf("%s: traits %+v, want %+v", id, got, want)
		}
	}
	// A notify target the config does not define: a service is still
	// restarted through the supervisor, anything else has no target.
	if r := bareTarget("service:ghost", p.res["service:web"].(*serviceRes).env); !restarts(r) || r.ID() != "service:ghost" {
		t.Errorf("bare service target: %#v", r)
	}
	if r := bareTarget("exec:ghost", nil); r != nil {
		t.Errorf("bare exec target: %#v", r)
	}
}

// longRunning gives any resource the longRunner trait; its first Apply
// waits for release.
type longRunning struct {
	Resource
	started chan struct{}
	release chan struct{}
	once    *sync.Once
}

func (l longRunning) RunsLong() bool { return true }

func (l longRunning) Apply(ctx context.Context) ([]Delta, error) {
	l.once.Do(func() {
		close(l.started)
		<-l.release
	})
	return l.Resource.Apply(ctx)
}

func (l longRunning) Same(o Resource) bool {
	if x, ok := o.(longRunning); ok {
		o = x.Resource
	}
	return l.Resource.Same(o)
}

// The engine moves a resource to the background lane by its trait, not
// its kind: a file that says it runs long does not hold the repair of an
// unrelated file while its Apply waits.
func TestLongRunnerTraitOnAnyKind(t *testing.T) {
	dir := t.TempDir()
	slow, free := filepath.Join(dir, "slow"), filepath.Join(dir, "free")
	l := longRunning{started: make(chan struct{}), release: make(chan struct{}), once: &sync.Once{}}
	released := false
	defer func() {
		if !released {
			close(l.release)
		}
	}()
	e := start(t, withWrap(func(r Resource) Resource {
		if r.ID() == "file:"+slow {
			l.Resource = r
			return l
		}
		return r
	}))
	e.SetConfig(cfgOf(file(slow, "slow", 0o644), file(free, "free", 0o644)))
	select {
	case <-l.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the long runner never started")
	}
	waitFor(t, "free written", hasContent(free, "free"))
	os.WriteFile(free, []byte("drift"), 0o644)
	waitFor(t, "drift repaired while the long runner waits", hasContent(free, "free"))
	if _, err := os.Stat(slow); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the long runner ended early (%v): the test proves nothing", err)
	}
	close(l.release)
	released = true
	waitFor(t, "long runner done", hasContent(slow, "slow"))
}

// failOnce gives any resource the retrier trait; its first Apply fails.
type failOnce struct {
	Resource
	calls *atomic.Int64
}

func (f failOnce) RetriesOnFailure() bool { return true }

func (f failOnce) Apply(ctx context.Context) ([]Delta, error) {
	if f.calls.Add(1) == 1 {
		return nil, errors.New("not yet")
	}
	return f.Resource.Apply(ctx)
}

func (f failOnce) Same(o Resource) bool {
	if x, ok := o.(failOnce); ok {
		o = x.Resource
	}
	return f.Resource.Same(o)
}

// A failed resource with the retrier trait, of whatever kind, is tried
// again on the retry timer: nothing else would wake the loop for it.
func TestRetrierTraitOnAnyKind(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	var calls atomic.Int64
	e := start(t, withWrap(func(r Resource) Resource { return failOnce{r, &calls} }))
	e.SetConfig(cfgOf(file(p, "x", 0o644)))
	// Only a retry writes it: the failed Apply wrote nothing that inotify
	// could report. (Our write's echo may add a no-op Apply after it.)
	waitFor(t, "written by the retry", hasContent(p, "x"))
}
