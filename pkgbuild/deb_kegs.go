package pkgbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/unit-os/unit/deb"
)

// debHashInput is everything a closure package's keg hash covers: the
// .deb (by its sha256), what the lock says of it, and the builder. Two
// recipes whose closures pin the same .deb share its keg.
type debHashInput struct {
	Builder string  `json:"builder"`
	Deb     DebInfo `json:"deb"`
}

// debLock returns the lock of r's deb closure (source i), resolving and
// writing it first when the recipe has none. With a lock, apt is not asked.
func (b *Builder) debLock(ctx context.Context, r *Recipe, i int) (*Lock, string, error) {
	path := LockPath(r.File)
	s := r.Sources[i]
	l, err := readLock(path, s)
	if err != nil || l != nil {
		return l, path, err
	}
	if l, err = b.resolveLock(ctx, s); err != nil {
		return nil, path, r.errorf([]string{"source", fmt.Sprint(i)}, "source %d (deb): %v", i+1, err)
	}
	if l.Pins, err = readPins(path); err != nil { // the deps = false sources' (deb_pin.go)
		return nil, path, err
	}
	if err := writeLock(path, l); err != nil {
		return nil, path, err
	}
	b.say(r.Name, "pinned %d packages in %s", len(l.Debs), path)
	// Build from the lock as written, so the first build and every later
	// one hash the very same values.
	l, err = readLock(path, s)
	return l, path, err
}

// resolveLock asks apt for s's closure now.
func (b *Builder) resolveLock(ctx context.Context, s Source) (*Lock, error) {
	b.aptMu.Lock()
	defer b.aptMu.Unlock()
	all, only, err := s.recommends()
	if err != nil {
		return nil, err
	}
	top, debs, err := b.resolveClosure(ctx, s.Deb, s.Version, all, only)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	l := &Lock{Package: s.Deb, Top: top, Resolved: &now, Recommends: recommendsKey(all, only), Debs: debs}
	if t := l.top(); s.SHA256 != "" && t.SHA256 != s.SHA256 {
		return nil, fmt.Errorf("%s %s: sha256 mismatch: apt has %s, recipe says %s", t.Package, t.Version, t.SHA256, s.SHA256)
	}
	return l, nil
}

// closureKegs makes sure every package of the lock but the recipe's own
// has its keg, and returns them by package name. The kegs are made
// several at once (b.jobs); the error joins every package's failure.
func (b *Builder) closureKegs(ctx context.Context, l *Lock, lockPath, update string) (map[string]*Keg, error) {
	if err := b.prefetchDebs(ctx, l, lockPath, update); err != nil {
		return nil, err
	}
	kegs := make([]*Keg, len(l.Debs))
	errs := make([]error, len(l.Debs))
	sem := make(chan struct{}, b.jobs)
	var wg sync.WaitGroup
	for i, d := range l.Debs {
		if d.Package == l.Top {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			kegs[i], errs[i] = b.debKeg(ctx, d, lockPath, update)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := map[string]*Keg{}
	for i, d := range l.Debs {
		if kegs[i] != nil {
			out[d.Package] = kegs[i]
		}
	}
	return out, nil
}

// debKegOf is the keg a pinned .deb makes (its hash covers the .deb and
// what the lock says of it, not what unpacking reads from it), with its
// directory in the store, which may not exist yet.
func (b *Builder) debKegOf(d DebInfo) (*Keg, error) {
	d.Conffiles, d.Postinst = nil, ""
	hash, err := hashJSON(debHashInput{Builder: BuilderVersion, Deb: d})
	if err != nil {
		return nil, err
	}
	k := &Keg{Name: d.Package, Version: d.Version, Hash: hash, Builder: "deb",
		Sources: []SourceID{debSourceID(d)}, Deb: &d}
	k.Dir = filepath.Join(b.store, k.RelDir())
	return k, nil
}

// debKeg returns the keg of one pinned .deb, unpacking it (in-process,
// no maintainer scripts) into the store if it is not there yet.
func (b *Builder) debKeg(ctx context.Context, d DebInfo, lockPath, update string) (*Keg, error) {
	k, err := b.debKegOf(d)
	if err != nil {
		return nil, err
	}
	if have, err := ReadKeg(k.Dir); err == nil {
		return have, nil
	}
	start := time.Now()
	tmpRoot := filepath.Join(b.store, ".tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(tmpRoot, d.Package+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out")
	if err = b.unpackDeb(ctx, k.Deb, lockPath, update, out); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Package, err)
	}
	if err := writeMeta(k, out); err != nil {
		return nil, err
	}
	if err := normalize(out, DefaultEpoch); err != nil {
		return nil, err
	}
	if err := pool(b.store, out, DefaultEpoch); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(k.Dir), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(out, k.Dir); err != nil {
		if have, rerr := ReadKeg(k.Dir); rerr == nil {
			return have, nil // unpacked meanwhile for another recipe: the same keg
		}
		return nil, fmt.Errorf("store: %w", err)
	}
	b.say(d.Package, "unpacked %s in %s", k.RelDir(), time.Since(start).Round(time.Millisecond))
	return k, nil
}

func debSourceID(d DebInfo) SourceID {
	return SourceID{Kind: "deb", Name: d.Package, Version: d.Version,
		Files: []FileSum{{Name: d.Filename, SHA256: d.SHA256}}}
}

// unpackDeb fetches the pinned .deb (debFile), unpacks it into dst and
// reads its conffiles and postinst into d.
func (b *Builder) unpackDeb(ctx context.Context, d *DebInfo, lockPath, update string, dst string) error {
	p, err := b.debFile(ctx, *d, lockPath, update)
	if err != nil {
		return err
	}
	pkg, err := deb.Open(p)
	if err != nil {
		return err
	}
	defer pkg.Close()
	if err := pkg.Extract(dst); err != nil {
		return err
	}
	return debControl(pkg, d)
}

// extractDeb unpacks the .deb at p into dst.
func extractDeb(p, dst string) error {
	pkg, err := deb.Open(p)
	if err != nil {
		return err
	}
	defer pkg.Close()
	return pkg.Extract(dst)
}

// maxPostinst bounds the postinst kept in a keg's metadata (what
// maintscript reads; a larger one is left out and the image says so).
const maxPostinst = 1 << 20

// maxConffiles bounds a .deb's conffiles list.
const maxConffiles = 1 << 20

// debControl reads what the image builder needs from a .deb's control
// archive into d: its conffiles and its postinst (none is not an error).
func debControl(pkg *deb.Package, d *DebInfo) error {
	m, err := pkg.Control(maxConffiles, "conffiles")
	if err != nil {
		return err
	}
	d.Conffiles = debConffiles(m["conffiles"])
	d.Postinst = ""
	m, err = pkg.Control(maxPostinst, "postinst")
	if errors.Is(err, deb.ErrTooLarge) {
		return nil
	}
	if err != nil {
		return err
	}
	d.Postinst = string(m["postinst"])
	return nil
}

// debConffiles parses the conffiles member of a .deb's control archive.
func debConffiles(data []byte) []string {
	var files []string
	for _, line := range strings.Split(string(data), "\n") {
		// "remove-on-upgrade /etc/x" lines carry a flag before the path.
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[len(f)-1], "/") {
			files = append(files, f[len(f)-1])
		}
	}
	sort.Strings(files)
	return files
}
