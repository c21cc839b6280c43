package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/unit-os/unit/cas"
)

// Options configure a Builder.
type Options struct {
	Store  string // default: <Cache>/store
	Cache  string // downloads, apt and Go caches; default $UNIT_CACHE or ~/.cache/unit
	Helper string // the unit binary that runs the sandbox; default: this executable
	Jobs   int    // builds at once; default: number of CPUs
	// Progress gets one line per event (cached, building, still building,
	// built, failed); nil discards them.
	Progress io.Writer
	// Tick is how often a long build reports; default 15s.
	Tick time.Duration
	// Caches are asked for a pinned .deb after the download cache and
	// before the mirror; Push gets every .deb fetched from a mirror or
	// snapshot (write-through). Snapshots are URL templates of snapshot
	// archives ({archive}, {time}: DefaultSnapshot), asked after the
	// mirror; none here means none (ReadPkgConfig gives the default).
	Caches    []cas.Source
	Push      []cas.Putter
	Snapshots []string
}

// Builder builds recipes into the store.
type Builder struct {
	store, cache, helper string
	jobs                 int
	tick                 time.Duration
	progress             io.Writer
	progMu               sync.Mutex
	aptMu, goMu          sync.Mutex
	caches               []cas.Source
	push                 []cas.Putter
	snapshots            []string
}

// Result is the outcome for one recipe.
type Result struct {
	Recipe   *Recipe
	Keg      *Keg // nil on failure
	Cached   bool // the keg already existed
	Duration time.Duration
	Err      error
}

// NewBuilder fills in defaults.
func NewBuilder(o Options) (*Builder, error) {
	b := &Builder{store: o.Store, cache: o.Cache, helper: o.Helper, jobs: o.Jobs, tick: o.Tick, progress: o.Progress,
		caches: o.Caches, push: o.Push, snapshots: o.Snapshots}
	if b.cache == "" {
		c, err := DefaultCache()
		if err != nil {
			return nil, err
		}
		b.cache = c
	}
	if b.store == "" {
		b.store = filepath.Join(b.cache, "store")
	}
	if b.helper == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the sandbox helper: %w", err)
		}
		b.helper = exe
	}
	if b.jobs <= 0 {
		b.jobs = runtime.NumCPU()
	}
	if b.tick <= 0 {
		b.tick = 15 * time.Second
	}
	if b.progress == nil {
		b.progress = io.Discard
	}
	for _, d := range []*string{&b.store, &b.cache} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			return nil, err
		}
		*d = abs
	}
	return b, nil
}

// DefaultCache is $UNIT_CACHE, else the user's cache directory + /unit.
func DefaultCache() (string, error) {
	if d := os.Getenv("UNIT_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w (set UNIT_CACHE)", err)
	}
	return filepath.Join(d, "unit"), nil
}

// DefaultStore is <DefaultCache>/store.
func DefaultStore() (string, error) {
	c, err := DefaultCache()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "store"), nil
}

// Store is the store directory in use.
func (b *Builder) Store() string { return b.store }

func (b *Builder) say(name, format string, args ...any) {
	b.progMu.Lock()
	defer b.progMu.Unlock()
	fmt.Fprintf(b.progress, "%-10s %s\n", name, fmt.Sprintf(format, args...))
}

// Build loads the recipe files (and the deps beside them), then builds
// every recipe whose keg is not in the store yet. Independent recipes build
// in parallel; a recipe waits for its deps. Results are in dependency order;
// the error joins every failure.
func (b *Builder) Build(ctx context.Context, files []string) ([]*Result, error) {
	recipes, err := LoadRecipes(files)
	if err != nil {
		return nil, err
	}
	unlock, err := lockStore(b.store, false)
	if err != nil {
		return nil, err
	}
	defer unlock()

	results := make(map[string]*Result, len(recipes))
	done := make(map[string]chan struct{}, len(recipes))
	for _, r := range recipes {
		results[r.Name] = &Result{Recipe: r}
		done[r.Name] = make(chan struct{})
	}
	sem := make(chan struct{}, b.jobs)
	var wg sync.WaitGroup
	for _, r := range recipes {
		wg.Add(1)
		go func(r *Recipe) {
			defer wg.Done()
			defer close(done[r.Name])
			res := results[r.Name]
			defer func() {
				if p := recover(); p != nil {
					res.Err = fmt.Errorf("%s: panic: %v", r.Name, p)
				}
			}()
			deps := map[string]*Keg{}
			for _, d := range allDeps(r) {
				<-done[d.name]
				if dr := results[d.name]; dr.Keg == nil {
					res.Err = fmt.Errorf("%s: not built: dependency %s failed", r.Name, d.name)
					return
				}
				deps[d.name] = results[d.name].Keg
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				res.Err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			res.Keg, res.Cached, res.Err = b.buildOne(ctx, r, deps)
			res.Duration = time.Since(start)
		}(r)
	}
	wg.Wait()
	out := make([]*Result, len(recipes))
	var errs []error
	for i, r := range recipes {
		out[i] = results[r.Name]
		if out[i].Err != nil {
			errs = append(errs, out[i].Err)
		}
	}
	return out, errors.Join(errs...)
}

// buildOne resolves r's sources, and builds its keg unless it exists.
func (b *Builder) buildOne(ctx context.Context, r *Recipe, deps map[string]*Keg) (*Keg, bool, error) {
	var lock *Lock
	var closure map[string]*Keg
	if i := r.debClosureSource(); i >= 0 {
		var lockPath string
		var err error
		if lock, lockPath, err = b.debLock(ctx, r, i); err != nil {
			return nil, false, err
		}
		if closure, err = b.closureKegs(ctx, lock, lockPath, r.Name); err != nil {
			return nil, false, fmt.Errorf("%s: %w", r.Name, err)
		}
		for n := range closure {
			if _, clash := deps[n]; clash {
				return nil, false, r.errorf([]string{"deps"}, "dependency %s is also a Debian package of the deb source's closure; drop one", n)
			}
		}
	}
	ids, err := b.resolve(ctx, r, lock)
	if err != nil {
		return nil, false, err
	}
	version := r.Version
	if version == Candidate {
		for _, id := range ids {
			if id.Kind == "deb" || id.Kind == "debian-source" {
				version = id.Version
				break
			}
		}
	}
	in := hashInput{Builder: BuilderVersion, Recipe: r, Version: version, Sources: ids, Deps: map[string]string{}}
	for n, k := range deps {
		in.Deps[n] = k.Hash
	}
	for n, k := range closure {
		in.Deps[n] = k.Hash
	}
	if len(buildSteps(r)) > 0 {
		in.Toolchain = toolchainID()
	}
	hash, err := kegHash(in)
	if err != nil {
		return nil, false, err
	}
	keg := &Keg{Name: r.Name, Version: version, Revision: r.Revision, Hash: hash, Builder: r.Builder, Toolchain: in.Toolchain, Sources: ids}
	for _, d := range r.Deps {
		if keg.Deps == nil {
			keg.Deps = map[string]string{}
		}
		keg.Deps[d] = deps[d].RelDir()
	}
	for _, d := range r.BuildDeps {
		if keg.BuildDeps == nil {
			keg.BuildDeps = map[string]string{}
		}
		keg.BuildDeps[d] = deps[d].RelDir()
	}
	for n, k := range closure {
		if keg.Deps == nil {
			keg.Deps = map[string]string{}
		}
		keg.Deps[n] = k.RelDir()
	}
	if lock != nil {
		top := *lock.top()
		keg.Deb = &top
	}
	keg.Dir = filepath.Join(b.store, keg.RelDir())
	if _, err := os.Stat(filepath.Join(keg.Dir, MetaName)); err == nil {
		b.say(r.Name, "cached %s", keg.RelDir())
		if keg.Deb != nil {
			// The conffiles and postinst come from the .deb when it was built: read them back.
			if have, err := ReadKeg(keg.Dir); err == nil && have.Deb != nil {
				keg.Deb.Conffiles, keg.Deb.Postinst = have.Deb.Conffiles, have.Deb.Postinst
			}
		}
		return keg, true, setCurrent(b.store, keg)
	}
	b.say(r.Name, "building %s", keg.RelDir())
	start := time.Now()
	if err := b.buildKeg(ctx, r, keg, ids, deps); err != nil {
		b.say(r.Name, "FAILED after %.1fs", time.Since(start).Seconds())
		return nil, false, fmt.Errorf("%s: %w", r.Name, err)
	}
	b.say(r.Name, "built %s in %.1fs", keg.RelDir(), time.Since(start).Seconds())
	return keg, false, setCurrent(b.store, keg)
}

// buildKeg builds keg in a temp dir of the store and renames it into place
// only when everything succeeded: a failed build leaves no trace in the
// store but its log.
func (b *Builder) buildKeg(ctx context.Context, r *Recipe, keg *Keg, ids []SourceID, deps map[string]*Keg) error {
	tmpRoot := filepath.Join(b.store, ".tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(tmpRoot, r.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src, out := filepath.Join(tmp, "build", "src"), filepath.Join(tmp, "out")
	for _, d := range []string{src, out, filepath.Join(tmp, "root")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for i, id := range ids {
		if err := b.fetch(ctx, r, keg, i, id, src, out); err != nil {
			return err
		}
	}
	epoch := int64(DefaultEpoch)
	if v, ok := r.Env["SOURCE_DATE_EPOCH"]; ok {
		if epoch, err = strconv.ParseInt(v, 10, 64); err != nil {
			return r.errorf([]string{"env", "SOURCE_DATE_EPOCH"}, "SOURCE_DATE_EPOCH %q: not a number", v)
		}
	}
	// Sources get one mtime too: copies and patched files would otherwise
	// carry the time of this build into archives the build makes.
	if err := normalize(src, epoch); err != nil {
		return err
	}
	logPath := filepath.Join(b.store, ".log", r.Name+"-"+keg.Hash+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	if steps := buildSteps(r); len(steps) > 0 {
		if err := b.sandboxBuild(ctx, r, tmp, steps, deps, logPath); err != nil {
			return err
		}
	}
	if err := applyInstall(r, out); err != nil {
		return err
	}
	if err := writeMeta(keg, out); err != nil {
		return err
	}
	if err := normalize(out, epoch); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(keg.Dir), 0o755); err != nil {
		return err
	}
	if err := os.Rename(out, keg.Dir); err != nil {
		if _, serr := os.Stat(filepath.Join(keg.Dir, MetaName)); serr == nil {
			return nil // built meanwhile by another process: same inputs, same keg
		}
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// sandboxBuild runs steps in the sandbox with the log in logPath, and
// reports progress every tick.
func (b *Builder) sandboxBuild(ctx context.Context, r *Recipe, tmp string, steps [][]string, deps map[string]*Keg, logPath string) error {
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	spec := &sandboxSpec{
		Root:     filepath.Join(tmp, "root"),
		Links:    map[string]string{},
		Files:    map[string]string{},
		Steps:    steps,
		Dir:      sbSrc,
		Env:      buildEnv(r, names),
		Hostname: "build",
	}
	spec.addHost()
	spec.Mounts = append(spec.Mounts,
		mount{Src: filepath.Join(tmp, "build"), Dst: sbBuild, RW: true},
		mount{Src: filepath.Join(tmp, "out"), Dst: sbOut, RW: true})
	for _, n := range names {
		spec.Mounts = append(spec.Mounts, mount{Src: deps[n].Dir, Dst: sbDeps + "/" + n})
	}
	if r.Builder == "go" {
		goCache := filepath.Join(b.cache, "gobuild")
		if err := os.MkdirAll(goCache, 0o755); err != nil {
			return err
		}
		spec.Mounts = append(spec.Mounts,
			mount{Src: b.goModCache(), Dst: sbGoSrc},
			mount{Src: goCache, Dst: sbGoCache, RW: true})
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	tail := newTailWriter(logf, steps)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		start := time.Now()
		t := time.NewTicker(b.tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				b.say(r.Name, "%s", tail.report(time.Since(start)))
			}
		}
	}()
	if err := runSandbox(ctx, b.helper, spec, filepath.Join(tmp, "spec.json"), tail); err != nil {
		return fmt.Errorf("%w\n%s\n(full log: %s)", err, tail.lastN(15), logPath)
	}
	return nil
}

// writeMeta writes the keg's metadata into the tree about to become it.
func writeMeta(k *Keg, out string) error {
	data, err := jsonIndent(k)
	if err != nil {
		return err
	}
	p := filepath.Join(out, MetaName)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	return os.Chmod(p, 0o644) // not the builder's umask
}
