// Package maintscript reads what a Debian maintainer script declares
// without running it: the system users and groups it makes (adduser
// --system, addgroup --system, useradd -r, groupadd -r), the owners and
// modes it gives the package's own paths (chown, chmod, install -d,
// mkdir, dpkg-statoverride --add). The script is parsed as shell and
// walked as a fresh install would run it ("postinst configure", no old
// version); every other command it would run is listed with its line,
// never silently dropped. Files it installs from the package's own
// (ucf, cp; through a mktemp file too, its edits listed) are listed as
// copies, links it makes (ln -s) as links. Nothing here acts.
package maintscript

import (
	"bytes"
	"fmt"

	"github.com/unit-os/unit/config"
	"mvdan.cc/sh/v3/syntax"
)

// User is a system user the script makes.
type User struct {
	Pos                      config.Pos
	Name, Home, Shell, Gecos string
	// Group is the primary group: --ingroup, or the user's own name with
	// --group / useradd -U; "" is adduser --system's default, nogroup.
	Group string
	// OwnGroup: a group of the user's name is made with it.
	OwnGroup bool
}

// Group is a system group the script makes.
type Group struct {
	Pos  config.Pos
	Name string
}

// Member is "adduser USER GROUP": a user joins a supplementary group.
type Member struct {
	Pos         config.Pos
	User, Group string
}

// Path is an owner, group or mode the script gives a path, or a
// directory it makes (Dir). Empty fields are left as they are.
type Path struct {
	Pos          config.Pos
	Path         string
	Owner, Group string
	Mode         string // octal as written, e.g. "0750"
	Dir          bool   // made if missing (install -d, mkdir)
	Recursive    bool   // chown -R / chmod -R
}

// Copy is a file the script installs from one the package ships: ucf
// SRC DST (Debian's way to make a conffile from a template) or cp SRC
// DST. The image builder copies it at build time when DST is missing.
type Copy struct {
	Pos      config.Pos
	From, To string
}

// Link is a symbolic link the script makes: ln -s TARGET PATH.
type Link struct {
	Pos          config.Pos
	Target, Path string
}

// Skipped is a command unit does not reproduce.
type Skipped struct {
	Pos     config.Pos
	Command string
	Why     string
}

// Script is what one maintainer script declares.
type Script struct {
	Users   []User
	Groups  []Group
	Members []Member
	Paths   []Path
	Copies  []Copy
	Links   []Link
	Skipped []Skipped
}

// Bounds: a maintainer script is a package's file, but a package can be
// anyone's.
const (
	MaxScript = 1 << 20
	maxDepth  = 16    // nested function calls and blocks
	maxSteps  = 20000 // commands walked, loops unrolled included
)

// Scan parses a maintainer script (name is for positions) of package pkg.
func Scan(name, pkg string, src []byte) (*Script, error) {
	if len(src) > MaxScript {
		return nil, fmt.Errorf("%s: %d bytes, more than a maintainer script's %d", name, len(src), MaxScript)
	}
	if !bytes.HasPrefix(src, []byte("#!")) || !shellLine(src) {
		// A script in another language (perl) is listed, not read.
		return &Script{Skipped: []Skipped{{Pos: config.Pos{File: name, Line: 1}, Command: firstLine(src), Why: "not a shell script"}}}, nil
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(bytes.NewReader(src), name)
	if err != nil {
		// bash-isms in a #!/bin/sh script: try bash before giving up.
		var err2 error
		if f, err2 = syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(src), name); err2 != nil {
			return nil, fmt.Errorf("parse %w", err)
		}
	}
	w := newWalker(name, pkg)
	w.stmts(f.Stmts, 0)
	if w.steps > maxSteps {
		w.out.Skipped = append(w.out.Skipped, Skipped{Pos: config.Pos{File: name, Line: 1}, Why: fmt.Sprintf("stopped after %d commands", maxSteps)})
	}
	return &w.out, nil
}

func shellLine(src []byte) bool {
	l := firstLine(src)
	for _, sh := range []string{"/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/env sh", "/usr/bin/env bash"} {
		if bytes.Contains([]byte(l), []byte(sh)) {
			return true
		}
	}
	return false
}

func firstLine(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return string(src)
}
