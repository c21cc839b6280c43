package cm

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

func TestConfigReload(t *testing.T) {
	cdir, data := t.TempDir(), t.TempDir()
	a, b, c := filepath.Join(data, "a"), filepath.Join(data, "b"), filepath.Join(data, "c")
	write := func(name, src string) {
		// Like an editor: a temp file renamed over the old one.
		tmp := filepath.Join(cdir, "."+name+".swp")
		os.WriteFile(tmp, []byte(src), 0o644)
		os.Rename(tmp, filepath.Join(cdir, name))
	}
	write("10-a.toml", "[file.\""+a+"\"]\ncontent = \"a1\"\n")
	write("20-b.toml", "[file.\""+b+"\"]\ncontent = \"b1\"\n")
	write("30-c.toml", "[file.\""+c+"\"]\ncontent = \"c1\"\n")
	cfg, err := config.Load(cdir)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var good []*config.Config
	rec := &recorder{}
	var calls = new(int64Counter)
	e := start(t, WithEvents(rec.emit), WithConfigDir(cdir, func(c *config.Config) {
		mu.Lock()
		good = append(good, c)
		mu.Unlock()
	}), withWrap(calls.wrap))
	e.SetConfig(cfg)
	waitFor(t, "initial", func() bool { return hasContent(a, "a1")() && hasContent(b, "b1")() })
	// The echoes of the first pass's writes re-check a and b once more. To
	// reset the counts after them: inotify keeps order, so once the loop has
	// repaired c, edited after those writes, they are handled; an apply
	// through the loop then waits for that pass to end.
	os.WriteFile(c, []byte("edited"), 0o644)
	waitFor(t, "c repaired", hasContent(c, "c1"))
	if _, err := e.Apply(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	calls.reset()

	// A valid edit of one file: only its resource is touched.
	write("10-a.toml", "[file.\""+a+"\"]\ncontent = \"a2\"\n")
	waitFor(t, "a2", hasContent(a, "a2"))
	waitFor(t, "reloaded event", func() bool { return rec.hasEvent("config", "reloaded") })
	if got := calls.ids(); strings.Contains(got, "file:"+b) {
		t.Errorf("unchanged resource touched on reload: %s", got)
	}
	waitFor(t, "supervisor callback", func() bool { mu.Lock(); defer mu.Unlock(); return len(good) == 1 })

	// An invalid edit: the last good config keeps running, error has file:line.
	write("20-b.toml", "[file.\""+b+"\"]\ncontent = \"b2\"\nmdoe = \"0644\"\n")
	waitFor(t, "config error", func() bool { return rec.hasEvent("config", "error") })
	rec.mu.Lock()
	var msg string
	for _, ev := range rec.events {
		if ev.Resource == "config" && ev.State == "error" {
			msg = ev.Message
		}
	}
	rec.mu.Unlock()
	if !strings.Contains(msg, filepath.Join(cdir, "20-b.toml")+":3: unknown key \"file."+b+".mdoe\"") {
		t.Errorf("error message: %s", msg)
	}
	if !hasContent(b, "b1")() {
		t.Error("invalid config applied")
	}
	// Drift is still repaired under the last good config.
	os.WriteFile(a, []byte("x"), 0o644)
	waitFor(t, "repaired under last good", hasContent(a, "a2"))

	// A cycle is invalid as a whole too.
	write("20-b.toml", "[file.\""+b+"\"]\ncontent = \"b3\"\nrequires = [\"file:"+a+"\"]\n[exec.x]\ncommand=[\"/bin/true\"]\nrequires = [\"exec:x\"]\n")
	waitFor(t, "still b1", hasContent(b, "b1"))

	write("20-b.toml", "[file.\""+b+"\"]\ncontent = \"b4\"\n")
	waitFor(t, "b4", hasContent(b, "b4"))
}

// int64Counter records which resources were changed.
type int64Counter struct {
	mu   sync.Mutex
	seen []string
}

func (c *int64Counter) wrap(r Resource) Resource { return tracked{r, c} }
func (c *int64Counter) reset()                   { c.mu.Lock(); c.seen = nil; c.mu.Unlock() }
func (c *int64Counter) ids() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.seen, " ")
}

type tracked struct {
	Resource
	c *int64Counter
}

// Apply records resources that really changed (a no-op Apply after our
// own write's inotify echo is not a touch).
func (t tracked) Apply(ctx context.Context) ([]Delta, error) {
	what, err := t.Resource.Apply(ctx)
	if len(what) > 0 {
		t.c.mu.Lock()
		t.c.seen = append(t.c.seen, t.ID())
		t.c.mu.Unlock()
	}
	return what, err
}

func (t tracked) Same(o Resource) bool {
	if x, ok := o.(tracked); ok {
		o = x.Resource
	}
	return t.Resource.Same(o)
}

// The config a reload takes reaches onGood (the supervisor) only after the
// pass that converges it ended: the file a new service reads exists by
// then, every time.
func TestReloadHandsOverAfterThePass(t *testing.T) {
	cdir, data := t.TempDir(), t.TempDir()
	got := make(chan bool, 1)
	var want string // the file of the reload in flight; read in onGood
	var mu sync.Mutex
	e := start(t, WithConfigDir(cdir, func(*config.Config) {
		mu.Lock()
		p := want
		mu.Unlock()
		got <- exists(p)
	}))
	e.SetConfig(&config.Config{})
	for i := range 20 {
		p := filepath.Join(data, strconv.Itoa(i), "conf")
		mu.Lock()
		want = p
		mu.Unlock()
		src := "[file.\"" + p + "\"]\ncontent = \"x\"\n"
		for j := range 100 { // a staged pass: long enough to lose a race
			src += "[file.\"" + filepath.Join(data, strconv.Itoa(i), "o"+strconv.Itoa(j)) + "\"]\ncontent = \"x\"\n"
		}
		name := strconv.Itoa(i) + ".toml"
		os.WriteFile(filepath.Join(cdir, "."+name), []byte(src), 0o644)
		os.Rename(filepath.Join(cdir, "."+name), filepath.Join(cdir, name))
		select {
		case ok := <-got:
			if !ok {
				t.Fatalf("reload %d: onGood ran before %s was written", i, p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("reload %d: onGood not called", i)
		}
	}
}

// TestLayerDirComesThenALayer: the layers' directory appears and a layer
// is written into it right after the reload that directory caused (the
// fleet agent's first seconds). The layer must be taken: the directory's
// watch is made when its creation is seen, not after a later pass.
// Several rounds, since the race was a matter of milliseconds.
func TestLayerDirComesThenALayer(t *testing.T) {
	cdir, data := t.TempDir(), t.TempDir()
	motd := filepath.Join(data, "motd")
	os.WriteFile(filepath.Join(cdir, "local.toml"), []byte("[file.\""+motd+"\"]\ncontent = \"local\"\n"), 0o644)
	cfg, err := config.Load(cdir)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit), WithConfigDir(cdir, nil))
	e.SetConfig(cfg)
	waitFor(t, "local", hasContent(motd, "local"))
	layers := filepath.Join(cdir, config.LayerDir)
	for i := range 10 {
		reloads := rec.count("config", "reloaded")
		if err := os.Mkdir(layers, 0o755); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the directory's reload", func() bool { return rec.count("config", "reloaded") > reloads })
		want := "layer " + strconv.Itoa(i)
		os.WriteFile(filepath.Join(layers, "node.n1.toml"), []byte("[file.\""+motd+"\"]\ncontent = \""+want+"\"\n"), 0o644)
		waitFor(t, "round "+strconv.Itoa(i)+": the layer", hasContent(motd, want))
		os.RemoveAll(layers)
		waitFor(t, "round "+strconv.Itoa(i)+": local again", hasContent(motd, "local"))
	}
}
