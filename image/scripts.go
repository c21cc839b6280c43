package image

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/unit-os/unit/ldso"
	"github.com/unit-os/unit/shellcmd"
)

// What a service's shell scripts call runs as on Debian: a helper in
// ExecStartPre that calls `setpriv --reuid` or `cp --preserve` gets
// util-linux's and coreutils' programs, not busybox's applets, which lack
// those options. The commands are found statically (shellcmd); each is
// looked up on the default PATH in the files of the image's Debian
// packages (their lock pins Debian's Essential packages too), busybox's
// applets set aside; the package's program replaces the applet and the
// ld.so closure follows it. A command no package and nothing else in the
// image has is noted with the script's line. A command computed at run
// time cannot be found: a recipe's [system] include can add its file.

// shadowed is a package file at a path where the image has a busybox
// applet: not taken unless a script calls it.
type shadowed struct {
	f kegFile
	p *debPkg
}

// isApplet says whether an image entry is a link to busybox.
func isApplet(e entry) bool {
	return e.Mode&fs.ModeSymlink != 0 && path.Base(string(e.Data)) == "busybox"
}

// scriptTools returns the package programs the shell scripts of a
// service's command call (prog resolved on PATH, argv as configured),
// following scripts those call; notes gets the commands found nowhere.
func (s *debSelector) scriptTools(what, prog string, argv []string) (tools, notes []string) {
	seen := map[string]bool{}
	var scan func(name string, src []byte, depth int)
	take := func(p string, depth int) {
		tools = append(tools, p)
		if src, ok := s.shellScript(p); ok && !seen[p] && depth < 8 {
			seen[p] = true
			scan(p, src, depth+1)
		}
	}
	scan = func(name string, src []byte, depth int) {
		cmds, err := shellcmd.Commands(name, src)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: commands not read: %v", name, err))
			return
		}
		for _, c := range cmds {
			p, inPkg, found := s.findCommand(c.Name)
			switch {
			case inPkg:
				take(p, depth)
			case !found && !c.Probe:
				notes = append(notes, fmt.Sprintf("%s:%d: %s: command not in the image", name, c.Line, c.Name))
			}
		}
	}
	if src, ok := s.shellScript(prog); ok {
		seen[prog] = true
		scan(prog, src, 0)
	}
	// sh -c '…' and sh SCRIPT, as a unit file's ExecStartPre often has.
	if isShell(path.Base(prog)) {
		for i := 1; i < len(argv); i++ {
			switch a := argv[i]; {
			case a == "-c" && i+1 < len(argv):
				scan(what+" (sh -c)", []byte(argv[i+1]), 0)
				return tools, notes
			case strings.HasPrefix(a, "-"):
			case path.IsAbs(a):
				if src, ok := s.shellScript(a); ok {
					if p, inPkg, _ := s.findCommand(a); inPkg {
						tools = append(tools, p)
					}
					scan(a, src, 0)
				}
				return tools, notes
			default:
				return tools, notes
			}
		}
	}
	return tools, notes
}

func isShell(name string) bool {
	switch name {
	case "sh", "bash", "dash", "ash":
		return true
	}
	return false
}

// findCommand looks a command up as the shell would on the default PATH,
// busybox's applets set aside: a package's program (inPkg, taken in place
// of any applet of that name before it on PATH), else anything else of
// the image, applets included (found).
func (s *debSelector) findCommand(name string) (p string, inPkg, found bool) {
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			return "", false, true // relative to a directory known at run time
		}
		name = path.Clean(name)
		if s.unshadow(name) {
			return name, true, true
		}
		if _, ok := s.file[name]; ok {
			return name, true, true
		}
		_, _, err := ldso.Resolve(s.tree, name)
		return "", false, err == nil
	}
	cands := pathCandidates(name)
	for i, c := range cands {
		_, pkg := s.file[c]
		if !pkg && s.unshadow(c) {
			pkg = true
		}
		if pkg {
			for _, before := range cands[:i] {
				if e, ok := s.base[before]; ok && isApplet(e) {
					s.replaced[before] = true
				}
			}
			return c, true, true
		}
		if e, ok := s.base[c]; ok && !isApplet(e) {
			return "", false, true
		}
	}
	for _, c := range cands {
		if _, ok := s.base[c]; ok {
			return "", false, true // busybox's applet is all there is
		}
	}
	return "", false, false
}

// unshadow makes a package file behind a busybox applet a candidate: the
// applet goes, the package's program takes its place.
func (s *debSelector) unshadow(p string) bool {
	sh, ok := s.shadow[p]
	if !ok {
		return false
	}
	delete(s.shadow, p)
	s.replaced[p] = true
	s.owner[p], s.file[p] = sh.p, sh.f
	sh.p.files = append(sh.p.files, sh.f)
	s.reindex = true
	return true
}

// shellScript reads p when it is a shell script of the image.
func (s *debSelector) shellScript(p string) ([]byte, bool) {
	var src []byte
	var err error
	if f, ok := s.file[p]; ok && f.Host != "" {
		// A package file: maybe just taken from behind an applet, which
		// the tree still has until it is made again.
		src, err = readHost(f.Host)
	} else {
		var real string
		if real, _, err = ldso.Resolve(s.tree, p); err != nil {
			return nil, false
		}
		if f, ok := s.file[real]; ok && f.Host != "" {
			src, err = readHost(f.Host)
		} else {
			src, err = readView(s.tree, real)
		}
	}
	if err != nil || !bytes.HasPrefix(src, []byte("#!")) {
		return nil, false
	}
	interp, args, ok := ldso.ScriptInterp(src)
	if !ok {
		return nil, false
	}
	if path.Base(interp) == "env" && len(args) > 0 {
		interp = args[0]
	}
	return src, isShell(path.Base(interp))
}

// readHost reads a package file that may be a script: no more than a
// script's bound, nothing but a regular file.
func readHost(host string) ([]byte, error) {
	f, err := os.OpenFile(host, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > shellcmd.MaxScript {
		return nil, errors.New("not a script")
	}
	return io.ReadAll(io.LimitReader(f, shellcmd.MaxScript))
}

// readView reads a regular file of a view, at most a script's size.
func readView(v *ldso.Tree, p string) ([]byte, error) {
	fi, err := v.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > shellcmd.MaxScript {
		return nil, errors.New("not a script")
	}
	f, err := v.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, fi.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf, nil
}

// takeTools takes the programs scripts call and what they load, the tree
// made again first if applets gave way. What a tool lacks is noted, not
// an error: the script may never reach it.
func (s *debSelector) takeTools(tools []string, selected map[string]bool) error {
	if s.reindex {
		if err := s.index(); err != nil {
			return err
		}
		s.reindex = false
	}
	if len(tools) > 0 {
		res, err := ldso.Closure(s.tree, tools, ldso.Options{})
		if err != nil {
			return fmt.Errorf("packages: scripts' commands: %w", err)
		}
		for _, m := range res.Missing {
			s.notes = append(s.notes, fmt.Sprintf("%s needs %s, which no package of this image provides", m.By, m.Name))
		}
		s.take(res.Files, selected)
	}
	for _, n := range s.notes {
		s.log.Warn(n)
	}
	return nil
}

// dropApplets leaves out the busybox applets a package's program replaced
// (paths as in debSelection.Replaced).
func dropApplets(base []entry, replaced []string) []entry {
	if len(replaced) == 0 {
		return base
	}
	gone := map[string]bool{}
	for _, p := range replaced {
		gone[strings.TrimPrefix(p, "/")] = true
	}
	out := base[:0:0]
	for _, e := range base {
		if !gone[strings.TrimPrefix(e.Name, "/")] || !isApplet(e) {
			out = append(out, e)
		}
	}
	return out
}
