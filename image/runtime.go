package image

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/ldso"
	"github.com/unit-os/unit/pkgbuild"
)

// The runtime closure of Debian packages. A deb recipe brings the whole
// Depends closure into the store (one keg per package); an image takes
// only what runs: the files of the packages the system names and of their
// same-source siblings (nginx and nginx-common, redis-server and
// redis-tools), less docs and init-system glue, plus what the programs
// among them and the services' programs load (ld.so closure), plus the
// system's include globs, less its exclude globs; plus the empty
// directories the named and sibling packages ship (/var/lib/haproxy), by
// the same rule. Packages apt pulled in for maintainer scripts (debconf,
// perl-base, init-system-helpers, ...) stay out unless something that
// runs needs them.

// DebPin is one Debian package an image uses, as pinned in its lock.
type DebPin struct {
	Package string `json:"package"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	SHA256  string `json:"sha256"`
	Keg     string `json:"keg"`   // store path of its keg
	Files   int    `json:"files"` // how many of its files the image has
	// Why: "named" (in [system] packages), "source" (built from the same
	// source as a named one), "recommended" (a named one's Recommends its
	// recipe asked for) or "needed" (only what runs needs of it).
	Why string `json:"why"`
}

// Override is a package's default file that a resource of the system
// replaces: the image leaves the package's copy out and the resource
// makes the file at boot.
type Override struct {
	Path     string `json:"path"`
	Package  string `json:"package"`
	Conffile bool   `json:"conffile,omitempty"`
	By       string `json:"by"` // the resource, e.g. file:/etc/nginx/nginx.conf
}

// notRuntime are the package paths an image leaves out unless an include
// glob asks for them: documentation, translations and the glue of other
// init systems, none of which a running service reads.
var notRuntime = []string{
	"/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/locale",
	"/usr/share/lintian", "/usr/share/bug", "/usr/share/doc-base", "/usr/share/menu",
	"/usr/share/bash-completion", "/usr/share/zsh", "/usr/share/apport", "/usr/share/debconf",
	"/etc/init.d", "/etc/rc?.d", "/etc/logrotate.d", "/etc/cron.*", "/etc/default",
	"/lib/systemd", "/usr/lib/systemd", "/usr/lib/tmpfiles.d", "/usr/lib/sysusers.d",
	"/etc/systemd", "/usr/share/polkit-1", "/etc/apparmor.d", "/usr/lib/sysctl.d", "/etc/ufw",
}

// kegFile is one file or symlink of a keg, not read yet.
type kegFile struct {
	Name string      // guest path without the leading "/"
	Host string      // the file in the store ("" for a symlink)
	Mode fs.FileMode // permissions, or fs.ModeSymlink|0o777
	Link string      // a symlink's target
	Size int64       // a file's size
	// Stamp identifies a file's contents without reading them (hostStamp).
	Stamp string
}

// kegFiles lists a keg's regular files and symlinks, skipping its
// metadata; any other file type is an error.
func kegFiles(dir string) ([]kegFile, error) {
	var out []kegFile
	err := walkKeg(dir, func(rel, host string, info fs.FileInfo) error {
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(host)
			if err != nil {
				return err
			}
			out = append(out, kegFile{Name: rel, Mode: fs.ModeSymlink | 0o777, Link: t})
		case info.Mode().IsRegular():
			out = append(out, kegFile{Name: rel, Host: host, Mode: info.Mode().Perm(), Size: info.Size(), Stamp: hostStamp(host, info)})
		default:
			return fmt.Errorf("%s: unsupported file type %v", rel, info.Mode().Type())
		}
		return nil
	})
	return out, err
}

// entry is f as an image entry: a symlink with its target, a file not
// read until it is packed (entry.open checks it is still that file).
func (f kegFile) entry() entry {
	if f.Host == "" {
		return entry{Name: f.Name, Mode: f.Mode, Data: []byte(f.Link)}
	}
	return entry{Name: f.Name, Mode: f.Mode, Host: f.Host, Size: f.Size, Stamp: f.Stamp}
}

// kegEmptyDirs lists a keg's directories that hold no file or symlink at
// any depth (/var/lib/haproxy, /var/log/nginx): a daemon expects the ones
// its package ships, and the file closure alone would never make them.
// Mode is fs.ModeDir with the keg's permissions.
func kegEmptyDirs(dir string) ([]kegFile, error) {
	var dirs []kegFile
	full := map[string]bool{} // directories with a file or symlink beneath
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "." || rel == pkgbuild.MetaName:
		case d.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			dirs = append(dirs, kegFile{Name: rel, Mode: fs.ModeDir | info.Mode().Perm()})
		default:
			for q := path.Dir(rel); q != "."; q = path.Dir(q) {
				full[q] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := dirs[:0]
	for _, d := range dirs {
		if !full[d.Name] {
			out = append(out, d)
		}
	}
	return out, nil
}

// debPkg is one Debian package of the closure with its candidate files.
type debPkg struct {
	keg      *pkgbuild.Keg
	files    []kegFile
	dirs     []kegFile // empty directories (named and same-source packages only)
	conffile map[string]bool
	why      string // "named", "source" or "" until something needs it
	used     int
}

// debSelection is what the Debian packages give an image.
type debSelection struct {
	Entries   []entry
	Used      []DebPin
	Dropped   []string // packages of the closure nothing runs needs
	Overrides []Override
	// Replaced are busybox applets (guest paths) a package's program
	// replaces because a service's script calls it; Notes the commands
	// of scripts found nowhere (script:line).
	Replaced []string
	Notes    []string
	// Unrunnable are the named packages' programs that will not run:
	// program and what it needs (logged).
	Unrunnable [][2]string
}

// logTo logs what the selection overrides and what will not run.
func (sel *debSelection) logTo(log *slog.Logger) {
	for _, o := range sel.Overrides {
		log.Info("package default overridden", "path", o.Path, "package", o.Package, "by", o.By)
	}
	for _, u := range sel.Unrunnable {
		log.Warn("package program will not run", "program", u[0], "needs", u[1])
	}
}

// debSelector picks the runtime files of the deb kegs of an image.
type debSelector struct {
	cfg   *config.Config
	log   *slog.Logger
	base  map[string]entry // everything else in the image, by guest path
	pkgs  []*debPkg
	owner map[string]*debPkg      // guest path → package
	file  map[string]kegFile      // guest path → file
	gone  map[string]excludedFile // guest path → why an exclude took it out
	any   map[string][]string     // file name → packages that have it (for hints)
	tree  *ldso.Tree
	// shadow: package files behind busybox applets (scripts.go);
	// replaced: the applets that go; reindex: the tree must follow.
	shadow   map[string]shadowed
	replaced map[string]bool
	reindex  bool
	notes    []string
	// unrunnable: debSelection.Unrunnable.
	unrunnable [][2]string
}

// selectDebs computes the runtime closure. debs are the deb kegs of the
// image's package closure, named those [system] packages name; base is
// the rest of the image (unit, busybox, config, other kegs), which a
// package never replaces.
func selectDebs(cfg *config.Config, log *slog.Logger, debs []*pkgbuild.Keg, named map[string]bool, base []entry) (*debSelection, error) {
	s := &debSelector{cfg: cfg, log: log, base: map[string]entry{}, owner: map[string]*debPkg{},
		file: map[string]kegFile{}, gone: map[string]excludedFile{}, any: map[string][]string{},
		shadow: map[string]shadowed{}, replaced: map[string]bool{}}
	for _, e := range base {
		s.base["/"+strings.TrimPrefix(e.Name, "/")] = e
	}
	if err := s.load(debs, named); err != nil {
		return nil, err
	}
	if err := s.index(); err != nil {
		return nil, err
	}
	selected := map[string]bool{}
	for _, p := range s.pkgs {
		if p.why != "" {
			for _, f := range p.files {
				if s.owner["/"+f.Name] == p {
					selected["/"+f.Name] = true
				}
			}
		}
	}
	if err := s.serviceRoots(selected); err != nil {
		return nil, err
	}
	if err := s.packageRoots(selected); err != nil {
		return nil, err
	}
	for p := range s.file {
		for _, g := range cfg.System.Include {
			if config.MatchPathGlob(g, p) {
				selected[p] = true
			}
		}
	}
	sel, err := s.result(selected)
	if err != nil {
		return nil, err
	}
	sel.logTo(log)
	return sel, nil
}

// load reads the packages' files, leaving out what is not runtime and
// what the system excludes.
func (s *debSelector) load(debs []*pkgbuild.Keg, named map[string]bool) error {
	sources, recommended := map[string]bool{}, map[string]bool{}
	for _, k := range debs {
		if named[k.Dir] {
			sources[sourceOf(k.Deb)] = true
			for _, r := range k.Deb.Recommends {
				recommended[r] = true // as apt installs them: whole
			}
		}
	}
	for _, k := range debs {
		p := &debPkg{keg: k, conffile: map[string]bool{}}
		for _, c := range k.Deb.Conffiles {
			p.conffile[c] = true
		}
		switch {
		case named[k.Dir]:
			p.why = "named"
		case sources[sourceOf(k.Deb)]:
			p.why = "source"
		case recommended[k.Deb.Package]:
			p.why = "recommended"
		}
		files, err := kegFiles(k.Dir)
		if err != nil {
			return fmt.Errorf("package %s: %w", k.Name, err)
		}
		for _, f := range files {
			gp := "/" + f.Name
			s.any[path.Base(gp)] = append(s.any[path.Base(gp)], k.Deb.Package)
			if g := s.excluded(gp); g != "" {
				s.gone[gp] = excludedFile{glob: g, pkg: k.Deb.Package}
				continue
			}
			if s.skipByDefault(gp) && !adminDefaults(p, gp) {
				continue
			}
			if b, ok := s.base[gp]; ok {
				if isApplet(b) {
					s.shadow[gp] = shadowed{f: f, p: p} // a script may call it
				}
				continue // unit, busybox and the system's own files stay
			}
			if prev, ok := s.owner[gp]; ok {
				return fmt.Errorf("packages %s and %s both install %s", prev.keg.Deb.Package, k.Deb.Package, gp)
			}
			s.owner[gp] = p
			s.file[gp] = f
			p.files = append(p.files, f)
		}
		if p.why != "" {
			// Only the packages taken whole: a library pulled in for what
			// runs brings its files, not its directories.
			dirs, err := kegEmptyDirs(k.Dir)
			if err != nil {
				return fmt.Errorf("package %s: %w", k.Name, err)
			}
			for _, d := range dirs {
				// The same rule as for files: docs, init glue and
				// excluded paths stay out unless included.
				if gp := "/" + d.Name; s.excluded(gp) == "" && !s.skipByDefault(gp) {
					p.dirs = append(p.dirs, d)
				}
			}
		}
		s.pkgs = append(s.pkgs, p)
	}
	return nil
}

// adminDefaults: /etc/default/NAME of a package taken whole (named, or
// of a named one's source) stays in the image although /etc/default is
// init glue: it is a conffile, the admin's knobs, and a unit file's
// EnvironmentFile=-/etc/default/NAME reads it at boot.
func adminDefaults(p *debPkg, gp string) bool {
	return p.why != "" && path.Dir(gp) == "/etc/default"
}

func sourceOf(d *pkgbuild.DebInfo) string {
	if d.Source != "" {
		return d.Source
	}
	return d.Package
}

func (s *debSelector) excluded(p string) string {
	for _, g := range s.cfg.System.Exclude {
		if config.MatchPathGlob(g, p) {
			return g
		}
	}
	return ""
}

func (s *debSelector) skipByDefault(p string) bool {
	for _, g := range notRuntime {
		if config.MatchPathGlob(g, p) {
			for _, inc := range s.cfg.System.Include {
				if config.MatchPathGlob(inc, p) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// index makes the view the closure is computed in: the whole image as it
// would be with every candidate file.
func (s *debSelector) index() error {
	base := make([]entry, 0, len(s.base))
	for p, e := range s.base {
		if !s.replaced[p] {
			base = append(base, e)
		}
	}
	view := viewOf(base)
	for p, f := range s.file {
		if f.Host == "" {
			view[p] = ldso.Entry{Link: f.Link}
		} else {
			view[p] = ldso.Entry{Host: f.Host}
		}
	}
	t, err := ldso.NewTree(view)
	if err != nil {
		return fmt.Errorf("packages: %w", err)
	}
	s.tree = t
	return nil
}

// serviceRoots adds what each service's programs (exec and exec_pre,
// exec_post, exec_stop_post; and each exec resource's and check's
// command) need; anything missing fails the build, at the
// line of the service's exec.
func (s *debSelector) serviceRoots(selected map[string]bool) error {
	var errs config.Errors
	type root struct {
		what string
		pos  config.Pos
		prog string
		argv []string
	}
	var roots []root
	for _, name := range sortedKeys(s.cfg.Services) {
		svc := s.cfg.Services[name]
		if prog := commandProgram(svc.Exec); prog != "" {
			roots = append(roots, root{"service." + name + ".exec", svc.ExecPos(), prog, svc.Exec})
		}
		// What runs before, beside and after it runs in the guest too.
		for _, l := range []struct {
			key  string
			cmds [][]string
		}{{"exec_pre", svc.ExecPre}, {"exec_post", svc.ExecPost}, {"exec_stop_post", svc.ExecStopPost}} {
			for _, c := range l.cmds {
				if prog := commandProgram(c); prog != "" {
					roots = append(roots, root{"service." + name + "." + l.key, svc.ExecPos(), prog, c})
				}
			}
		}
	}
	for _, name := range sortedKeys(s.cfg.Execs) {
		e := s.cfg.Execs[name]
		if len(e.Command) > 0 {
			roots = append(roots, root{"exec." + name + ".command", e.CommandPos(), e.Command[0], e.Command})
		}
	}
	// A check's command runs in the guest too: what it needs is taken,
	// and a check that could never run is a build error.
	for _, name := range sortedKeys(s.cfg.Checks) {
		c := s.cfg.Checks[name]
		if len(c.Exec) > 0 {
			roots = append(roots, root{"check." + name + ".exec", c.Pos, c.Exec[0], c.Exec})
		}
	}
	progs := make([]string, len(roots))
	var tools []string
	for i, r := range roots {
		prog, ok := s.lookPath(r.prog)
		if !ok {
			if s.managedProgram(r.prog) {
				continue // a file the system writes at boot
			}
			errs = append(errs, config.Error{Pos: r.pos, Msg: fmt.Sprintf("%s: %s is in no package of this image%s", r.what, r.prog, s.hint(path.Base(r.prog)))})
			continue
		}
		progs[i] = prog
		t, notes := s.scriptTools(r.what, prog, r.argv)
		tools = append(tools, t...)
		s.notes = append(s.notes, notes...)
	}
	if err := s.takeTools(tools, selected); err != nil {
		return err
	}
	for i, r := range roots {
		prog := progs[i]
		if prog == "" {
			continue
		}
		res, err := ldso.Closure(s.tree, []string{prog}, ldso.Options{})
		if err != nil {
			errs = append(errs, config.Error{Pos: r.pos, Msg: fmt.Sprintf("%s: %v", r.what, err)})
			continue
		}
		for _, m := range res.Missing {
			errs = append(errs, config.Error{Pos: r.pos, Msg: fmt.Sprintf("%s: %s needs %s, which no package of this image provides%s",
				r.what, m.By, m.Name, s.hint(path.Base(m.Name)))})
		}
		s.take(res.Files, selected)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// packageRoots adds what the programs and plugins of the named packages
// (and their same-source siblings) load. A program whose needs are not
// met is kept with a warning: nothing may ever run it.
func (s *debSelector) packageRoots(selected map[string]bool) error {
	var progs, plugins []string
	for _, p := range s.pkgs {
		if p.why == "" {
			continue
		}
		for _, f := range p.files {
			gp := "/" + f.Name
			if f.Host == "" || s.owner[gp] != p {
				continue
			}
			switch base := path.Base(gp); {
			case strings.HasSuffix(base, ".so") || strings.Contains(base, ".so."):
				plugins = append(plugins, gp)
			case f.Mode&0o111 != 0 && isProgram(f.Host):
				progs = append(progs, gp)
			}
		}
	}
	sort.Strings(progs)
	sort.Strings(plugins)
	res, err := ldso.Closure(s.tree, progs, ldso.Options{Extra: plugins})
	if err != nil {
		return fmt.Errorf("packages: %w", err)
	}
	for _, m := range res.Missing {
		s.unrunnable = append(s.unrunnable, [2]string{m.By, m.Name})
	}
	s.take(res.Files, selected)
	return nil
}

// isProgram says whether a file starts like an ELF or a script.
func isProgram(host string) bool {
	f, err := os.OpenFile(host, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := f.Read(head)
	return (n >= 4 && string(head) == "\x7fELF") || (n >= 2 && string(head[:2]) == "#!")
}

// take marks closure files that come from packages.
func (s *debSelector) take(files []string, selected map[string]bool) {
	for _, f := range files {
		if _, ok := s.file[f]; ok {
			selected[f] = true
		}
	}
}

// lookPath finds a service's program in the image as the supervisor
// would, on its default PATH.
func (s *debSelector) lookPath(prog string) (string, bool) {
	cands := []string{prog}
	if !strings.Contains(prog, "/") {
		cands = pathCandidates(prog)
	} else if !path.IsAbs(prog) {
		return "", false
	}
	for _, c := range cands {
		real, _, err := ldso.Resolve(s.tree, path.Clean(c))
		if err != nil {
			continue
		}
		if fi, err := s.tree.Lstat(real); err == nil && fi.Mode().IsRegular() {
			return c, true
		}
	}
	return "", false
}

// pathCandidates are the paths a bare program name may resolve to.
func pathCandidates(prog string) []string {
	var out []string
	for _, d := range strings.Split(ldso.DefaultPATH, ":") {
		out = append(out, d+"/"+prog)
	}
	return out
}

// managedProgram says whether a resource of the system makes the program
// a service runs: the path itself, or for a bare name one on PATH.
func (s *debSelector) managedProgram(prog string) bool {
	if strings.Contains(prog, "/") {
		return s.managed(prog)
	}
	for _, c := range pathCandidates(prog) {
		if s.managed(c) {
			return true
		}
	}
	return false
}

// managed says whether a resource of the system makes path p at boot.
func (s *debSelector) managed(p string) bool {
	_, f := s.cfg.Files[p]
	_, l := s.cfg.Links[p]
	return f || l
}

// hint names where a missing file could come from: a package of the
// closure that has it (and the exclude glob that took it out).
func (s *debSelector) hint(name string) string {
	for _, p := range sortedKeys(s.gone) {
		if path.Base(p) == name {
			g := s.gone[p]
			return fmt.Sprintf(" (Debian: %s has %s, left out by [system] exclude %q)", g.pkg, p, g.glob)
		}
	}
	if pk := s.any[name]; len(pk) > 0 {
		return " (Debian: " + strings.Join(pk, ", ") + ")"
	}
	return ""
}

// excludedFile is a package file an exclude glob left out.
type excludedFile struct{ glob, pkg string }

// result reads the selected files, leaving out those a resource of the
// system replaces.
func (s *debSelector) result(selected map[string]bool) (*debSelection, error) {
	out := &debSelection{}
	paths := make([]string, 0, len(selected))
	for p := range selected {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		pk := s.owner[p]
		if s.managed(p) {
			by := "file:" + p
			if _, ok := s.cfg.Links[p]; ok {
				by = "link:" + p
			}
			out.Overrides = append(out.Overrides, Override{Path: p, Package: pk.keg.Deb.Package, Conffile: pk.conffile[p], By: by})
			continue
		}
		out.Entries = append(out.Entries, s.file[p].entry())
		pk.used++
	}
	out.Entries = append(out.Entries, s.emptyDirs(out.Entries)...)
	out.Replaced, out.Notes, out.Unrunnable = sortedKeys(s.replaced), s.notes, s.unrunnable
	for _, p := range s.pkgs {
		d := p.keg.Deb
		if p.used == 0 && p.why == "" {
			out.Dropped = append(out.Dropped, d.Package)
			continue
		}
		why := p.why
		if why == "" {
			why = "needed"
		}
		out.Used = append(out.Used, DebPin{Package: d.Package, Version: d.Version, Arch: d.Arch, SHA256: d.SHA256,
			Keg: p.keg.RelDir(), Files: p.used, Why: why})
	}
	sort.Slice(out.Used, func(i, j int) bool { return out.Used[i].Package < out.Used[j].Package })
	sort.Strings(out.Dropped)
	return out, nil
}

// emptyDirs are the packages' empty directories the image can hold beside
// files (the selected ones and the rest of the image): not where the image
// has something already, nor under a path that is not a directory there
// (a package's /var/run/foo where /var/run is a link), nor where a [file]
// or [link] goes. Owner root: the package's mode, as dpkg unpacks it.
func (s *debSelector) emptyDirs(files []entry) []entry {
	taken := map[string]bool{} // guest paths of non-directories
	for p, e := range s.base {
		if !e.Mode.IsDir() {
			taken[p] = true
		}
	}
	for _, e := range files {
		taken["/"+e.Name] = true
	}
	seen := map[string]bool{}
	var out []entry
	for _, pk := range s.pkgs {
		for _, d := range pk.dirs {
			gp := "/" + d.Name
			if seen[gp] {
				continue // shipped by two packages: the first one's mode
			}
			if _, ok := s.base[gp]; ok {
				continue
			}
			blocked := false
			for q := gp; q != "/"; q = path.Dir(q) {
				if taken[q] || s.managed(q) {
					blocked = true
					break
				}
			}
			if blocked {
				s.log.Debug("package directory left out: the image has a file there", "path", gp, "package", pk.keg.Deb.Package)
				continue
			}
			seen[gp] = true
			out = append(out, entry{Name: d.Name, Mode: d.Mode})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ldCache is /etc/ld.so.cache for the image's files, as ldconfig would
// write it from the image's ld.so.conf: the loader finds libraries in
// ld.so.conf.d directories without scanning, and the build stays
// reproducible (nothing runs in the guest to make it).
func ldCache(files []entry) (entry, error) {
	t, err := ldso.NewTree(viewOf(files))
	if err != nil {
		return entry{}, fmt.Errorf("ld.so.cache: %w", err)
	}
	data, err := ldso.WriteCache(t, nil)
	if err != nil {
		return entry{}, fmt.Errorf("ld.so.cache: %w", err)
	}
	return entry{Name: "etc/ld.so.cache", Mode: 0o644, Data: data}, nil
}

// viewOf is image entries as ldso tree entries (files in memory).
func viewOf(files []entry) map[string]ldso.Entry {
	view := map[string]ldso.Entry{}
	for _, e := range files {
		p := "/" + strings.TrimPrefix(e.Name, "/")
		switch {
		case e.Mode&fs.ModeSymlink != 0:
			view[p] = ldso.Entry{Link: string(e.Data)}
		case e.Mode.IsRegular() && e.Data == nil && e.Host != "":
			view[p] = ldso.Entry{Host: e.Host}
		case e.Mode.IsRegular():
			d := e.Data
			if d == nil {
				d = []byte{}
			}
			view[p] = ldso.Entry{Data: d}
		}
	}
	return view
}
