// Package pkgbuild turns TOML recipes into kegs: sandboxed builds whose
// outputs live in a content-addressed store, <store>/<name>/<version>-<hash>/.
package pkgbuild

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/unit-os/unit/config"
)

// Candidate as a version means "whatever apt would install now": resolved
// at build time and recorded in the keg, for Debian packages whose exact
// version changes with security updates.
const Candidate = "candidate"

// Recipe is one package: what it is made from and how it is built.
type Recipe struct {
	Name        string            `toml:"name" json:"name"`
	Version     string            `toml:"version" json:"version"`
	Revision    int               `toml:"revision" json:"revision,omitempty"`
	Description string            `toml:"description" json:"-"` // not an input of the build
	Sources     []Source          `toml:"source" json:"sources"`
	Deps        []string          `toml:"deps" json:"deps,omitempty"`
	BuildDeps   []string          `toml:"build_deps" json:"build_deps,omitempty"`
	Builder     string            `toml:"builder" json:"builder"`
	Configure   []string          `toml:"configure_args" json:"configure_args,omitempty"`
	MakeArgs    []string          `toml:"make_args" json:"make_args,omitempty"`
	Steps       [][]string        `toml:"steps" json:"steps,omitempty"`
	Env         map[string]string `toml:"env" json:"env,omitempty"`
	Install     []InstallOp       `toml:"install" json:"install,omitempty"`

	File string     `toml:"-" json:"-"` // the recipe file
	Pos  config.Pos `toml:"-" json:"-"`
	idx  config.Lines
}

// Source is one pinned input. Exactly one of the kind keys is set.
type Source struct {
	Local        string `toml:"local" json:"local,omitempty"`                 // directory, relative to the recipe
	URL          string `toml:"url" json:"url,omitempty"`                     // with SHA256
	GoMod        string `toml:"gomod" json:"gomod,omitempty"`                 // module/cmd@version
	Deb          string `toml:"deb" json:"deb,omitempty"`                     // Debian binary package
	DebianSource string `toml:"debian-source" json:"debian_source,omitempty"` // Debian source package
	Version      string `toml:"version" json:"version,omitempty"`             // deb and debian-source: exact or "candidate"
	Via          string `toml:"via" json:"via,omitempty"`                     // deb: pick the dependency of this metapackage matching Deb (a glob)
	SHA256       string `toml:"sha256" json:"sha256,omitempty"`               // url: the file; deb: the .deb; debian-source: the .dsc
	Strip        *int   `toml:"strip" json:"strip,omitempty"`                 // url archives: leading path components to drop (default 1)
	Dest         string `toml:"dest" json:"dest,omitempty"`                   // subdirectory of the build dir (deb: of the keg)
	// Deps (deb only, default true): resolve the package's Pre-Depends/
	// Depends closure with apt, pin it in the recipe's lock file and build
	// one keg per Debian package. false: this package alone.
	Deps *bool `toml:"deps" json:"-"` // not hashed: a closure shows in the keg's deps
	// Recommends (deb with deps only): true takes the Recommends apt
	// would install (apt-get install's default); a list of names takes
	// those of the package's Recommends only. Absent or false: none.
	Recommends any `toml:"recommends" json:"recommends,omitempty"`
}

// WithDeps reports whether s is a deb source that brings its dependency
// closure (see Source.Deps).
func (s Source) WithDeps() bool { return s.Deb != "" && (s.Deps == nil || *s.Deps) }

// debClosureSource is the index of r's deb source with deps, or -1.
func (r *Recipe) debClosureSource() int {
	for i, s := range r.Sources {
		if s.WithDeps() {
			return i
		}
	}
	return -1
}

// InstallOp is one change to the keg after the build; exactly one of
// Symlink, Delete, Rename, Chmod is set. Paths are relative to the keg.
type InstallOp struct {
	Symlink string `toml:"symlink" json:"symlink,omitempty"`
	Target  string `toml:"target" json:"target,omitempty"`
	Delete  string `toml:"delete" json:"delete,omitempty"`
	Rename  string `toml:"rename" json:"rename,omitempty"`
	To      string `toml:"to" json:"to,omitempty"`
	Chmod   string `toml:"chmod" json:"chmod,omitempty"`
	Mode    string `toml:"mode" json:"mode,omitempty"`
}

// Kind names which kind of source s is.
func (s Source) Kind() string {
	switch {
	case s.Local != "":
		return "local"
	case s.URL != "":
		return "url"
	case s.GoMod != "":
		return "gomod"
	case s.Deb != "":
		return "deb"
	case s.DebianSource != "":
		return "debian-source"
	}
	return ""
}

// Builders a recipe may name.
var builders = map[string]bool{"none": true, "steps": true, "make": true, "autotools": true, "go": true}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9+._-]*$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// at is the position of a key path in the recipe.
func (r *Recipe) at(keys ...string) config.Pos {
	line := r.idx.Line(keys...)
	if line == 0 {
		line = 1
	}
	return config.Pos{File: r.File, Line: line}
}

func (r *Recipe) errorf(keys []string, format string, args ...any) config.Error {
	return config.Error{Pos: r.at(keys...), Msg: fmt.Sprintf(format, args...)}
}

// ParseFile reads and validates one recipe. Every problem is reported as
// file:line: message (config.Errors).
func ParseFile(file string) (*Recipe, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	return Parse(file, data)
}

// Parse decodes a recipe strictly: unknown keys are errors.
func Parse(file string, data []byte) (*Recipe, error) {
	r := &Recipe{File: file, Pos: config.Pos{File: file, Line: 1}}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		var strict *toml.StrictMissingError
		var derr *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			var errs config.Errors
			for _, e := range strict.Errors {
				line, _ := e.Position()
				errs = append(errs, config.Error{Pos: config.Pos{File: file, Line: line},
					Msg: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
			}
			return nil, errs
		case errors.As(err, &derr):
			line, _ := derr.Position()
			return nil, config.Errors{{Pos: config.Pos{File: file, Line: line}, Msg: derr.Error()}}
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	r.idx = config.IndexLines(data)
	if errs := r.validate(); len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Pos.Line < errs[j].Pos.Line })
		return nil, errs
	}
	if r.Builder == "" {
		r.Builder = r.defaultBuilder()
	}
	if r.Version == "" {
		r.Version = Candidate // a deb closure's lock gives it
	}
	for i := range r.Sources {
		if r.Sources[i].WithDeps() && r.Sources[i].Version == "" {
			r.Sources[i].Version = Candidate // the lock pins it
		}
	}
	return r, nil
}

func (r *Recipe) defaultBuilder() string {
	if len(r.Steps) > 0 {
		return "steps"
	}
	for _, s := range r.Sources {
		if s.GoMod != "" {
			return "go"
		}
	}
	return "none"
}

func (r *Recipe) validate() config.Errors {
	var errs config.Errors
	add := func(keys []string, format string, args ...any) {
		errs = append(errs, r.errorf(keys, format, args...))
	}
	if r.Name == "" {
		add(nil, "name is required")
	} else if !nameRE.MatchString(r.Name) {
		add([]string{"name"}, "name %q: want lower-case letters, digits and +._-", r.Name)
	}
	if r.Version == "" && r.debClosureSource() < 0 {
		add(nil, "version is required (or %q for the Debian candidate)", Candidate)
	} else if strings.ContainsAny(r.Version, "/ \t\n") {
		add([]string{"version"}, "version %q: no slashes or spaces", r.Version)
	}
	if r.Revision < 0 {
		add([]string{"revision"}, "revision must not be negative")
	}
	if r.Builder != "" && !builders[r.Builder] {
		add([]string{"builder"}, "builder %q: want one of none, steps, make, autotools, go", r.Builder)
	}
	if r.Builder == "steps" && len(r.Steps) == 0 {
		add([]string{"builder"}, "builder \"steps\" needs steps")
	}
	for i, st := range r.Steps {
		if len(st) == 0 || st[0] == "" {
			add([]string{"steps", strconv.Itoa(i)}, "step %d: empty command", i+1)
		}
	}
	for k := range r.Env {
		if !envRE.MatchString(k) {
			add([]string{"env", k}, "env %q: not a variable name", k)
		}
	}
	for _, field := range []struct {
		key  string
		deps []string
	}{{"deps", r.Deps}, {"build_deps", r.BuildDeps}} {
		for i, d := range field.deps {
			if !nameRE.MatchString(d) || d == r.Name {
				add([]string{field.key, strconv.Itoa(i)}, "%s: %q is not a package name other than this one", field.key, d)
			}
		}
	}
	if len(r.Sources) == 0 && len(r.Steps) == 0 {
		add(nil, "a recipe needs at least one [[source]] or steps")
	}
	gomods, closures := 0, 0
	for i, s := range r.Sources {
		if s.WithDeps() {
			if closures++; closures == 2 {
				add([]string{"source", strconv.Itoa(i)}, "source %d: one deb source with deps per recipe (its lock pins one closure); set deps = false", i+1)
			}
		}
		errs = append(errs, r.validateSource(i, s)...)
		if s.GoMod != "" {
			gomods++
		}
	}
	if r.Builder == "go" && gomods == 0 {
		add([]string{"builder"}, "builder \"go\" needs a gomod source")
	}
	if r.Version == Candidate && !r.hasDebian() {
		add([]string{"version"}, "version %q needs a deb or debian-source source to resolve it from", Candidate)
	}
	for i, op := range r.Install {
		errs = append(errs, r.validateInstall(i, op)...)
	}
	return errs
}

func (r *Recipe) hasDebian() bool {
	for _, s := range r.Sources {
		if s.Deb != "" || s.DebianSource != "" {
			return true
		}
	}
	return false
}

func (r *Recipe) validateSource(i int, s Source) config.Errors {
	var errs config.Errors
	key := []string{"source", strconv.Itoa(i)}
	add := func(k string, format string, args ...any) {
		keys := key
		if k != "" {
			keys = append(append([]string{}, key...), k)
		}
		errs = append(errs, r.errorf(keys, format, args...))
	}
	n := 0
	for _, v := range []string{s.Local, s.URL, s.GoMod, s.Deb, s.DebianSource} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		add("", "source %d: set exactly one of local, url, gomod, deb, debian-source", i+1)
		return errs
	}
	if s.SHA256 != "" && !sha256RE.MatchString(s.SHA256) {
		add("sha256", "sha256 %q: want 64 lower-case hex digits", s.SHA256)
	}
	if s.Dest != "" && !relPath(s.Dest) {
		add("dest", "dest %q: want a relative path without ..", s.Dest)
	}
	only := func(k, v, kinds string) {
		if v != "" {
			add(k, "%s is only for %s sources", k, kinds)
		}
	}
	switch s.Kind() {
	case "local":
		only("version", s.Version, "deb and debian-source")
		only("sha256", s.SHA256, "url, deb and debian-source")
	case "url":
		if s.SHA256 == "" {
			add("", "url source: sha256 is required (it pins the file)")
		}
		if !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") {
			add("url", "url %q: want http:// or https://", s.URL)
		}
		only("version", s.Version, "deb and debian-source")
	case "gomod":
		mod, ver, ok := strings.Cut(s.GoMod, "@")
		if !ok || mod == "" || !strings.HasPrefix(ver, "v") {
			add("gomod", "gomod %q: want module/path/cmd@vX.Y.Z", s.GoMod)
		}
		only("version", s.Version, "deb and debian-source")
		only("sha256", s.SHA256, "url, deb and debian-source (gomod is checked against the Go checksum database)")
	case "deb", "debian-source":
		if s.Version == "" && !s.WithDeps() {
			add("", "%s source: version is required (an exact Debian version, or %q)", s.Kind(), Candidate)
		}
		if s.Version == Candidate && s.SHA256 != "" {
			add("sha256", "sha256 pins one version; it cannot go with version %q", Candidate)
		}
	}
	if s.Deps != nil && s.Deb == "" {
		add("deps", "deps is only for deb sources")
	}
	if s.Recommends != nil {
		if _, _, err := s.recommends(); err != nil {
			add("recommends", "%v", err)
		} else if !s.WithDeps() {
			add("recommends", "recommends is only for deb sources with deps")
		}
	}
	if s.WithDeps() && s.Via != "" {
		add("via", "via picks one package: set deps = false with it")
	}
	if s.Via != "" && s.Deb == "" {
		add("via", "via is only for deb sources")
	}
	if s.Strip != nil && s.URL == "" {
		add("strip", "strip is only for url sources")
	}
	return errs
}

func (r *Recipe) validateInstall(i int, op InstallOp) config.Errors {
	keys := []string{"install", strconv.Itoa(i)}
	fail := func(format string, args ...any) config.Errors {
		return config.Errors{r.errorf(keys, "install %d: "+format, append([]any{i + 1}, args...)...)}
	}
	n := 0
	for _, v := range []string{op.Symlink, op.Delete, op.Rename, op.Chmod} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return fail("set exactly one of symlink, delete, rename, chmod")
	}
	for _, p := range []string{op.Symlink, op.Delete, op.Rename, op.Chmod, op.To} {
		if p != "" && !relPath(p) {
			return fail("path %q: want a path inside the keg (relative, no ..)", p)
		}
	}
	switch {
	case op.Symlink != "" && op.Target == "":
		return fail("symlink needs target")
	case op.Rename != "" && op.To == "":
		return fail("rename needs to")
	case op.Chmod != "":
		if _, err := strconv.ParseUint(op.Mode, 8, 32); err != nil || op.Mode == "" {
			return fail("chmod needs mode, an octal string like \"0755\"")
		}
	}
	if op.Target != "" && op.Symlink == "" || op.To != "" && op.Rename == "" || op.Mode != "" && op.Chmod == "" {
		return fail("target goes with symlink, to with rename, mode with chmod")
	}
	return nil
}

// relPath reports whether p stays inside the directory it is relative to.
func relPath(p string) bool {
	if p == "" || filepath.IsAbs(p) {
		return false
	}
	c := path.Clean(p)
	return c != ".." && !strings.HasPrefix(c, "../")
}
