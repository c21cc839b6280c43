package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// selectFormat is the version of selectDebs' rules and of its memo: a
// change to what it selects must change it, so no older memo is taken.
const selectFormat = 1

// selectCacheKeep is how many selections the cache keeps.
const selectCacheKeep = 16

// memoSelectDebs is selectDebs, found in the cache when nothing it reads
// has changed: a warm build neither walks the kegs nor follows the
// programs' libraries. The key is every input of the selection: the deb
// kegs (immutable: the hash is in their directory's name; their
// directory's inode and mtime too, so a keg made again is read again),
// which of them are named, the rest of the image by contents, and what
// of the system's config it reads. A record that does not decode is
// ignored and made again.
func memoSelectDebs(cache string, cfg *config.Config, log *slog.Logger, debs []*pkgbuild.Keg, named map[string]bool, base []entry) (*debSelection, error) {
	if len(debs) == 0 {
		return selectDebs(cfg, log, debs, named, base) // nothing to walk
	}
	key, err := selectKey(cfg, debs, named, base)
	if err != nil {
		return nil, err
	}
	m := memo{dir: filepath.Join(cache, "image-select"), ext: ".gob", keep: selectCacheKeep}
	if p, ok := m.lookup(key); ok {
		if b, err := p.bytes(); err == nil {
			var sel debSelection
			if gob.NewDecoder(bytes.NewReader(b)).Decode(&sel) == nil {
				sel.logTo(log)
				return &sel, nil
			}
		}
	}
	sel, err := selectDebs(cfg, log, debs, named, base)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(sel); err != nil {
		return nil, fmt.Errorf("debian packages: %w", err)
	}
	if _, err := m.store(key, func(p string) error { return os.WriteFile(p, b.Bytes(), 0o644) }); err != nil {
		log.Warn("debian packages: selection not cached", "err", err)
	}
	return sel, nil
}

// selectKey hashes what selectDebs reads.
func selectKey(cfg *config.Config, debs []*pkgbuild.Keg, named map[string]bool, base []entry) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "unit image select %d\n", selectFormat)
	for _, k := range debs {
		fi, err := os.Stat(k.Dir)
		if err != nil {
			return "", fmt.Errorf("package %s: %w", k.Name, err)
		}
		fmt.Fprintf(h, "keg %q %q %t\n", k.Dir, k.Hash, named[k.Dir])
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			fmt.Fprintf(h, "%d:%d\n", st.Dev, st.Ino)
		}
		if err := writeJSON(h, k.Deb); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(h, "base %d\n", len(base))
	for _, e := range base {
		hashEntry(h, e)
	}
	type svc struct{ Exec, Pre, Post, StopPost any }
	in := struct {
		Include, Exclude []string
		Services         map[string]svc
		Execs, Checks    map[string][]string
		Files, Links     []string
	}{Include: cfg.System.Include, Exclude: cfg.System.Exclude, Services: map[string]svc{},
		Execs: map[string][]string{}, Checks: map[string][]string{},
		Files: sortedKeys(cfg.Files), Links: sortedKeys(cfg.Links)}
	for n, s := range cfg.Services {
		in.Services[n] = svc{s.Exec, s.ExecPre, s.ExecPost, s.ExecStopPost}
	}
	for n, e := range cfg.Execs {
		in.Execs[n] = e.Command
	}
	for n, c := range cfg.Checks {
		in.Checks[n] = c.Exec
	}
	if err := writeJSON(h, in); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashEntry writes an entry to a key: its name, mode, device numbers and
// contents (its data's hash, or a host file's stamp).
func hashEntry(h hash.Hash, e entry) {
	fmt.Fprintf(h, "%q %o %d %d %d ", e.Name, uint32(e.Mode), e.Major, e.Minor, e.size())
	if e.Data == nil && e.Host != "" {
		fmt.Fprintf(h, "host %q\n", e.Stamp)
	} else {
		fmt.Fprintf(h, "data %x\n", sha256.Sum256(e.Data))
	}
}

// writeJSON writes v to a key, maps sorted.
func writeJSON(h hash.Hash, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h.Write(b)
	h.Write([]byte{'\n'})
	return nil
}
