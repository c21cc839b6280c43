package ldso

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/unit-os/unit/execfile"
)

// DefaultDirs are the loader's built-in library directories on Debian x86_64.
var DefaultDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib", "/usr/lib", "/lib64", "/usr/lib64",
}

// DefaultPATH is the PATH a service gets when its config sets none (the
// supervisor's), searched for programs named without a slash.
const DefaultPATH = execfile.DefaultPATH

// Options tune Closure.
type Options struct {
	// Extra are more roots whose closure joins the result: plugins a
	// program opens with dlopen, which no ELF header names.
	Extra []string
	// PATH is searched for "#!/usr/bin/env NAME"; default DefaultPATH.
	PATH string
	// LIB is what $LIB expands to; default "lib/x86_64-linux-gnu", what
	// Debian's ld.so uses (checked with LD_DEBUG=libs).
	LIB string
	// ConfDirs overrides the loader-cache directories; nil reads
	// /etc/ld.so.conf inside the view.
	ConfDirs []string
}

// Missing is one thing a program needs that the view does not provide.
type Missing struct {
	By   string // guest path of the object (or script) that needs it
	Name string // DT_NEEDED name, interpreter path or script interpreter
}

func (m Missing) String() string { return m.By + " needs " + m.Name }

// Result is the closure of some roots.
type Result struct {
	// Files are the guest paths to copy, sorted: every resolved file and
	// every symlink passed on the way to it.
	Files []string
	// Missing lists what could not be found, in discovery order.
	Missing []Missing
}

// Err is nil when nothing is missing, else an error naming each need.
func (r *Result) Err() error {
	var errs []error
	for _, m := range r.Missing {
		errs = append(errs, errors.New(m.String()))
	}
	return errors.Join(errs...)
}

// object is one loaded ELF file.
type object struct {
	path    string // path it was found under ($ORIGIN base)
	origin  string
	needed  []string
	rpath   []string // nil when the object has DT_RUNPATH
	runpath []string
	nodef   bool
	loader  *object
}

type closer struct {
	v       View
	opts    Options
	conf    []string
	files   map[string]bool
	missing []Missing
	loaded  map[string]*object // by needed name and by resolved path
}

// Closure computes every file the roots (programs or scripts) need at run
// time inside v. Missing things are reported in Result.Missing; an error
// means the view itself could not be read or a root is unusable.
func Closure(v View, roots []string, opts Options) (res *Result, err error) {
	// debug/elf reads hostile bytes; whatever it does, the caller (the
	// image builder, maybe inside PID 1) gets an error, never a panic.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("ldso: closure of %v: malformed input: %v", roots, r)
		}
	}()
	if opts.PATH == "" {
		opts.PATH = DefaultPATH
	}
	if opts.LIB == "" {
		opts.LIB = "lib/x86_64-linux-gnu"
	}
	c := &closer{v: v, opts: opts, files: map[string]bool{}, loaded: map[string]*object{}}
	if opts.ConfDirs != nil {
		c.conf = opts.ConfDirs
	} else {
		dirs, err := ConfDirs(v)
		if err != nil {
			return nil, err
		}
		c.conf = dirs
	}
	all := append(append([]string{}, roots...), opts.Extra...)
	for _, r := range all {
		if err := c.root(r, r, 0); err != nil {
			return nil, err
		}
	}
	res = &Result{Missing: c.missing}
	for f := range c.files {
		res.Files = append(res.Files, f)
	}
	sort.Strings(res.Files)
	return res, nil
}

// add resolves p and records it with its link chain; ok is false when p
// does not exist in the view.
func (c *closer) add(p string) (string, bool, error) {
	real, links, err := Resolve(c.v, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", false, nil
		}
		return "", false, err
	}
	for _, l := range links {
		c.files[l] = true
	}
	c.files[real] = true
	return real, true, nil
}

// root adds a program or script and its closure. need names who asked for it.
func (c *closer) root(p, by string, depth int) error {
	if depth > 4 {
		return fmt.Errorf("%s: interpreter nesting deeper than 4", by)
	}
	if !path.IsAbs(p) {
		return fmt.Errorf("root %q: not an absolute path", p)
	}
	real, ok, err := c.add(p)
	if err != nil {
		return err
	}
	if !ok {
		c.missing = append(c.missing, Missing{By: by, Name: p})
		return nil
	}
	f, err := c.v.Open(real)
	if err != nil {
		return fmt.Errorf("open %s: %w", real, err)
	}
	defer f.Close()
	head := make([]byte, 256)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", real, err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		return c.script(p, head, depth)
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		return c.program(p, real, f)
	}
	return nil // data file (a plugin list, a config): it is in Files, nothing more
}

func (c *closer) script(p string, head []byte, depth int) error {
	interp, args, ok := ScriptInterp(head)
	if !ok {
		return fmt.Errorf("%s: empty #! line", p)
	}
	if err := c.root(interp, p, depth+1); err != nil {
		return err
	}
	if path.Base(interp) == "env" && len(args) > 0 {
		name := args[0]
		if name == "-S" || strings.HasPrefix(name, "-") {
			return fmt.Errorf("%s: env options in #! are not supported", p)
		}
		for _, dir := range strings.Split(c.opts.PATH, ":") {
			cand := path.Join("/", dir, name)
			if _, _, err := Resolve(c.v, cand); err == nil {
				return c.root(cand, p, depth+1)
			}
		}
		c.missing = append(c.missing, Missing{By: p, Name: name})
	}
	return nil
}

func (c *closer) program(p, real string, f File) error {
	ef, err := elf.NewFile(f)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s: not an x86_64 ELF64 program (%v %v)", p, ef.Class, ef.Machine)
	}
	interp, err := ELFInterp(ef)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if interp != "" {
		if _, ok, err := c.add(interp); err != nil {
			return err
		} else if !ok {
			c.missing = append(c.missing, Missing{By: p, Name: interp})
		}
	}
	main, err := c.parse(ef, p, path.Dir(real))
	if err != nil {
		return err
	}
	if main == nil {
		return nil // static
	}
	c.loaded[real] = main
	return c.deps(main)
}

// parse reads the dynamic section of ef; nil if it has none.
func (c *closer) parse(ef *elf.File, p, origin string) (*object, error) {
	if ef.Section(".dynamic") == nil && !hasDynamic(ef) {
		return nil, nil
	}
	o := &object{path: p, origin: origin}
	var err error
	if o.needed, err = ef.DynString(elf.DT_NEEDED); err != nil {
		return nil, fmt.Errorf("%s: DT_NEEDED: %w", p, err)
	}
	run, err := ef.DynString(elf.DT_RUNPATH)
	if err != nil {
		return nil, fmt.Errorf("%s: DT_RUNPATH: %w", p, err)
	}
	rp, err := ef.DynString(elf.DT_RPATH)
	if err != nil {
		return nil, fmt.Errorf("%s: DT_RPATH: %w", p, err)
	}
	o.runpath = c.expandList(run, o)
	if len(run) == 0 {
		o.rpath = c.expandList(rp, o)
	}
	if flags, err := ef.DynValue(elf.DT_FLAGS_1); err == nil {
		for _, f := range flags {
			if f&uint64(elf.DF_1_NODEFLIB) != 0 {
				o.nodef = true
			}
		}
	}
	return o, nil
}

func hasDynamic(ef *elf.File) bool {
	for _, p := range ef.Progs {
		if p.Type == elf.PT_DYNAMIC {
			return true
		}
	}
	return false
}

func (c *closer) expandList(vals []string, o *object) []string {
	var out []string
	for _, v := range vals {
		for _, d := range strings.Split(v, ":") {
			if d == "" {
				continue // the current directory: meaningless in an image
			}
			out = append(out, c.expand(d, o))
		}
	}
	return out
}

// expand replaces $ORIGIN, $LIB and $PLATFORM (also in ${} form).
func (c *closer) expand(s string, o *object) string {
	r := strings.NewReplacer(
		"${ORIGIN}", o.origin, "$ORIGIN", o.origin,
		"${LIB}", c.opts.LIB, "$LIB", c.opts.LIB,
		"${PLATFORM}", "x86_64", "$PLATFORM", "x86_64",
	)
	return r.Replace(s)
}

// deps loads the dependencies of main breadth first, as ld.so does.
func (c *closer) deps(main *object) error {
	queue := []*object{main}
	for len(queue) > 0 {
		o := queue[0]
		queue = queue[1:]
		for _, name := range o.needed {
			if _, ok := c.loaded[name]; ok {
				continue
			}
			dep, err := c.search(name, o)
			if err != nil {
				return err
			}
			if dep == nil {
				c.missing = append(c.missing, Missing{By: o.path, Name: name})
				c.loaded[name] = &object{path: name} // report once
				continue
			}
			c.loaded[name] = dep
			queue = append(queue, dep)
		}
	}
	return nil
}

// search finds name needed by o in glibc's order; nil when not found.
func (c *closer) search(name string, o *object) (*object, error) {
	if strings.Contains(name, "/") {
		return c.try(c.expand(name, o), o)
	}
	var dirs []string
	if len(o.runpath) == 0 {
		for l := o; l != nil; l = l.loader {
			dirs = append(dirs, l.rpath...)
		}
	}
	dirs = append(dirs, o.runpath...)
	if !o.nodef {
		dirs = append(dirs, c.conf...)
		dirs = append(dirs, DefaultDirs...)
	}
	for _, d := range dirs {
		dep, err := c.try(path.Join(d, name), o)
		if err != nil || dep != nil {
			return dep, err
		}
	}
	return nil, nil
}

// try loads the candidate p if it is an x86_64 ELF64 shared object.
func (c *closer) try(p string, loader *object) (*object, error) {
	real, links, err := Resolve(c.v, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrLoop) {
			return nil, nil
		}
		return nil, err
	}
	if prev, ok := c.loaded[real]; ok {
		return prev, nil
	}
	fi, err := c.v.Lstat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	f, err := c.v.Open(real)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", real, err)
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil || ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_DYN {
		return nil, nil // ld.so skips a wrong-class or non-ELF candidate
	}
	o, err := c.parse(ef, p, path.Dir(p))
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = &object{path: p, origin: path.Dir(p)}
	}
	o.loader = loader
	for _, l := range links {
		c.files[l] = true
	}
	c.files[real] = true
	c.loaded[real] = o
	return o, nil
}

// ConfDirs reads /etc/ld.so.conf inside v with its include globs, in order,
// without duplicates. A missing ld.so.conf means no dirs.
func ConfDirs(v View) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	err := readConf(v, "/etc/ld.so.conf", seen, &out, 0)
	return out, err
}

func readConf(v View, p string, seen map[string]bool, out *[]string, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%s: include nesting deeper than 8", p)
	}
	real, _, err := Resolve(v, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	f, err := v.Open(real)
	if err != nil {
		return fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.NewSectionReader(f, 0, 1<<20))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "include"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			for _, pat := range strings.Fields(rest) {
				if !path.IsAbs(pat) {
					pat = path.Join(path.Dir(p), pat)
				}
				matches, err := glob(v, pat)
				if err != nil {
					return fmt.Errorf("%s:%d: include %s: %w", p, lineNo, pat, err)
				}
				for _, m := range matches {
					if err := readConf(v, m, seen, out, depth+1); err != nil {
						return err
					}
				}
			}
			continue
		}
		if strings.HasPrefix(line, "hwcap ") {
			continue
		}
		for _, d := range strings.FieldsFunc(line, func(r rune) bool { return r == ':' || r == ',' || r == ' ' || r == '\t' }) {
			if !path.IsAbs(d) {
				return fmt.Errorf("%s:%d: %q is not an absolute directory", p, lineNo, d)
			}
			d = path.Clean(d)
			if !seen[d] {
				seen[d] = true
				*out = append(*out, d)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	return nil
}

// ScriptInterp reads a #! line from the head of a file: the interpreter and
// its arguments; ok is false when head is not a script or the line is empty.
func ScriptInterp(head []byte) (interp string, args []string, ok bool) {
	return execfile.ScriptInterp(head)
}

// ELFInterp is the program's PT_INTERP (its dynamic loader), "" for a
// static program.
func ELFInterp(ef *elf.File) (string, error) {
	for _, prog := range ef.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(prog.Open(), 4096))
		if err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		return strings.TrimRight(string(b), "\x00"), nil
	}
	return "", nil
}
