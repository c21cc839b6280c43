package image

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/declared"
	"github.com/unit-os/unit/ids"
	"github.com/unit-os/unit/pkgbuild"
)

// What the Debian packages of an image declare for their daemons
// (docs/debian.md): their sysusers.d and tmpfiles.d, and the postinst
// idioms, become usr/lib/unit/declared.toml, the vendor layer below the
// system's own config. The ids of the users and groups it makes are
// pinned in SYSTEM.ids beside the system's TOML.

// declaredName is the vendor layer's file in the image.
const declaredName = "usr/lib/unit/declared.toml"

// declDirs are the directories Gather reads, guest paths.
var declDirs = []string{"lib/sysusers.d", "usr/lib/sysusers.d", "etc/sysusers.d", "lib/tmpfiles.d", "usr/lib/tmpfiles.d", "etc/tmpfiles.d"}

// PinsPath is the pin file of a system: SYSTEM.ids beside SYSTEM.toml.
func PinsPath(system string) string { return strings.TrimSuffix(system, ".toml") + ".ids" }

// declare gathers what the image's packages declare into t.conf, copies
// the files their postinsts install from their own, and loads the
// system again over it: in.cfg is then the config PID 1 will load.
func (in *inputs) declare(t *layout) error {
	kegs := takenDebs(in.pkgs.Debs, t.debs)
	all := append(append(append([]entry(nil), t.base...), t.conf...), t.pkgs...)
	res, pins, err := in.gather(all, kegs, accountsOf(t.base))
	if err != nil {
		return err
	}
	copies, copyNotes := postinstCopies(kegs, all)
	t.pkgs = append(t.pkgs, copies...)
	if res.Resources > 0 {
		vendor, err := os.MkdirTemp("", "unit-declared-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(vendor)
		if err := os.WriteFile(filepath.Join(vendor, path.Base(declaredName)), res.TOML, 0o644); err != nil {
			return err
		}
		// Validated as PID 1 will load it: a bad table fails the build
		// at the line that declared it.
		l := config.Loader{Vendor: vendor}
		if in.units != nil {
			l.Declared = in.units.Declared
		}
		if in.cfg, err = l.LoadFiles(in.o.System); err != nil {
			return err
		}
		t.conf = append(t.conf, entry{Name: declaredName, Mode: 0o644, Data: res.TOML})
	}
	if in.o.Notes != nil {
		for _, n := range res.Notes {
			fmt.Fprintln(in.o.Notes, n)
		}
		for _, n := range copyNotes {
			fmt.Fprintln(in.o.Notes, n)
		}
	}
	if pins == nil {
		return nil // from the memo: nothing was pinned
	}
	if err := pins.Save(); err != nil {
		return err
	}
	for _, a := range pins.Added {
		in.notef("pinned %s in %s: keep it with the system", a, PinsPath(in.o.System))
	}
	return nil
}

// accounts are the base image's /etc/passwd and /etc/group.
type accounts struct{ passwd, group string }

func accountsOf(base []entry) accounts {
	p, g := accountDBs(base)
	return accounts{p, g}
}

// gather is what the packages declare, read from the image's tree laid
// out in a temporary directory, with the pins it made (nil when the
// result comes from the memo: a result that pinned nothing is kept,
// keyed by everything Gather reads, so a warm build lays out nothing).
func (in *inputs) gather(all []entry, kegs []*pkgbuild.Keg, acc accounts) (*declared.Result, *ids.Pins, error) {
	cfg := in.cfg
	users, groups := needs(cfg)
	key, err := declareKey(all, kegs, acc, PinsPath(in.o.System), users, groups, cfg)
	if err != nil {
		return nil, nil, err
	}
	m := memo{dir: filepath.Join(in.cache, "image-declare"), ext: ".gob", keep: declareCacheKeep}
	if p, ok := m.lookup(key); ok {
		if b, err := p.bytes(); err == nil {
			var res declared.Result
			if gob.NewDecoder(bytes.NewReader(b)).Decode(&res) == nil {
				return &res, nil, nil
			}
		}
	}
	tmp, err := os.MkdirTemp("", "unit-declared-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "root")
	if err := materialise(root, all, kegs); err != nil {
		return nil, nil, fmt.Errorf("declarations: %w", err)
	}
	pins, err := ids.Load(PinsPath(in.o.System))
	if err != nil {
		return nil, nil, err
	}
	var scripts []declared.Script
	for _, k := range kegs {
		if k.Deb.Postinst != "" {
			scripts = append(scripts, declared.Script{Package: k.Deb.Package, Postinst: k.Deb.Postinst})
		}
	}
	res, err := declared.Gather(declared.Input{
		Root: root, Scripts: scripts, Pins: pins, Users: users, Groups: groups,
		// An image of Debian's packages has Debian's static accounts.
		Debian: len(kegs) > 0,
		Taken:  takenIDs(acc.passwd, acc.group),
		Defined: func(kind, name string) bool {
			switch kind {
			case "user":
				return cfg.Users[name] != nil || hasAccount(acc.passwd, name)
			case "group":
				return cfg.Groups[name] != nil || hasAccount(acc.group, name)
			}
			return false
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if len(pins.Added) == 0 {
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(res); err == nil {
			if _, err := m.store(key, func(p string) error { return os.WriteFile(p, b.Bytes(), 0o644) }); err != nil {
				in.log.Warn("declarations not cached", "err", err)
			}
		}
	}
	return res, pins, nil
}

// notef prints a line with the notes, or logs it when they are not shown.
func (in *inputs) notef(format string, args ...any) {
	if in.o.Notes != nil {
		fmt.Fprintf(in.o.Notes, format+"\n", args...)
		return
	}
	in.log.Info(fmt.Sprintf(format, args...))
}

// takenDebs are the deb kegs the image has files of, or that [system]
// packages name, by package name.
func takenDebs(debs []*pkgbuild.Keg, sel *debSelection) []*pkgbuild.Keg {
	used := map[string]bool{}
	if sel != nil {
		for _, d := range sel.Used {
			used[d.Keg] = true
		}
	}
	var out []*pkgbuild.Keg
	for _, k := range debs {
		if k.Deb != nil && used[k.RelDir()] {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b *pkgbuild.Keg) int { return strings.Compare(a.Deb.Package, b.Deb.Package) })
	return out
}

// materialise lays out the image's tree under root for Gather: its
// directories and links, its files empty but the declaration files, and
// the declaration files of the kegs, which the image itself leaves out
// (notRuntime). Everything goes through os.Root, so a link of the image
// never leads out; links are made last, and a path that cannot be made
// (below a link) is one Gather does not see.
func materialise(root string, es []entry, kegs []*pkgbuild.Keg) error {
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	var links []entry
	for _, e := range es {
		name := path.Clean(strings.TrimPrefix(e.Name, "/"))
		if !fs.ValidPath(name) || name == "." {
			continue
		}
		switch {
		case e.Mode.IsDir():
			r.MkdirAll(name, 0o755)
		case e.Mode&fs.ModeSymlink != 0:
			links = append(links, entry{Name: name, Data: e.Data})
		case e.Mode.IsRegular():
			if r.MkdirAll(path.Dir(name), 0o755) != nil {
				continue
			}
			var data []byte
			if isDecl(name) {
				if data, err = e.content(); err != nil {
					return err
				}
			}
			r.WriteFile(name, data, 0o644)
		}
	}
	for _, k := range kegs {
		for _, d := range declDirs {
			ents, err := os.ReadDir(filepath.Join(k.Dir, filepath.FromSlash(d)))
			if err != nil {
				continue // none in this package
			}
			for _, de := range ents {
				name := d + "/" + de.Name()
				if !de.Type().IsRegular() || !strings.HasSuffix(name, ".conf") {
					continue
				}
				if _, err := r.Lstat(name); err == nil {
					continue // the image's own, or an earlier package's
				}
				data, err := os.ReadFile(filepath.Join(k.Dir, filepath.FromSlash(name)))
				if err != nil {
					return fmt.Errorf("package %s: %w", k.Deb.Package, err)
				}
				if err := r.MkdirAll(d, 0o755); err != nil {
					return err
				}
				if err := r.WriteFile(name, data, 0o644); err != nil {
					return err
				}
			}
		}
	}
	for _, l := range links {
		if r.MkdirAll(path.Dir(l.Name), 0o755) == nil {
			r.Symlink(string(l.Data), l.Name)
		}
	}
	return nil
}

func isDecl(name string) bool {
	return slices.Contains(declDirs, path.Dir(name))
}

// needs are the users and groups the system's config uses: services'
// accounts, and the owners of its paths.
func needs(c *config.Config) (users, groups []declared.Need) {
	for _, s := range config.All[config.Service](c) {
		users = append(users, declared.Need{Name: s.User, Pos: s.At("user")})
		groups = append(groups, declared.Need{Name: s.Group, Pos: s.At("group")})
		for _, g := range s.Groups {
			groups = append(groups, declared.Need{Name: g, Pos: s.At("groups")})
		}
	}
	owner := func(m config.Resource, o, g string) {
		users = append(users, declared.Need{Name: o, Pos: m.At("owner")})
		groups = append(groups, declared.Need{Name: g, Pos: m.At("group")})
	}
	for _, d := range config.All[config.Dir](c) {
		owner(d, d.Owner, d.Group)
	}
	for _, f := range config.All[config.File](c) {
		owner(f, f.Owner, f.Group)
	}
	for _, f := range config.All[config.Tmpfile](c) {
		owner(f, f.Owner, f.Group)
	}
	return users, groups
}

// accountDBs are the base image's /etc/passwd and /etc/group.
func accountDBs(base []entry) (passwd, group string) {
	for _, e := range base {
		switch e.Name {
		case "etc/passwd":
			passwd = string(e.Data)
		case "etc/group":
			group = string(e.Data)
		}
	}
	return passwd, group
}

// hasAccount says whether a passwd or group database has name.
func hasAccount(db, name string) bool {
	for _, line := range strings.Split(db, "\n") {
		if n, _, ok := strings.Cut(line, ":"); ok && n == name {
			return true
		}
	}
	return false
}

// takenIDs says whether an id is a uid or gid of the base databases.
func takenIDs(passwd, group string) func(int) bool {
	taken := map[int]bool{}
	for _, db := range []string{passwd, group} {
		for _, line := range strings.Split(db, "\n") {
			if f := strings.Split(line, ":"); len(f) > 2 {
				if id, err := strconv.Atoi(f[2]); err == nil {
					taken[id] = true
				}
			}
		}
	}
	return func(id int) bool { return taken[id] }
}
