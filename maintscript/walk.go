package maintscript

import (
	"fmt"
	"strings"

	"github.com/unit-os/unit/config"
	"mvdan.cc/sh/v3/syntax"
)

// tri is what a condition is known to be on a fresh install.
type tri int

const (
	unknown tri = iota
	yes
	no
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// walker runs a script in the head: variables with literal values are
// followed, conditions it can decide are decided (a fresh install: no
// old version, no user yet, no override yet), both sides of the others
// are walked.
type walker struct {
	file  string
	out   Script
	vars  map[string]string // known values; absent means unknown
	funcs map[string]*syntax.Stmt
	seen  map[Skipped]bool
	steps int
	// temps are the files made by mktemp, by the symbol their variable
	// holds, with the package file copied into each ("" until then).
	temps map[string]string
}

func newWalker(file, pkg string) *walker {
	return &walker{
		file: file,
		vars: map[string]string{
			"1": "configure", "2": "", "@": "configure", "#": "1",
			"DPKG_MAINTSCRIPT_PACKAGE": pkg, "DPKG_MAINTSCRIPT_NAME": "postinst", "DPKG_ROOT": "",
		},
		funcs: map[string]*syntax.Stmt{},
		seen:  map[Skipped]bool{},
		temps: map[string]string{},
	}
}

func (w *walker) pos(n syntax.Node) config.Pos {
	return config.Pos{File: w.file, Line: int(n.Pos().Line())}
}

// stmts walks a list; its status is the last one's.
func (w *walker) stmts(list []*syntax.Stmt, depth int) tri {
	st := yes
	for _, s := range list {
		st = w.stmt(s, depth, false)
	}
	return st
}

// stmt walks one statement. cond: it is a condition, whose unknown
// commands are questions, not actions to list.
func (w *walker) stmt(s *syntax.Stmt, depth int, cond bool) tri {
	w.steps++
	if w.steps > maxSteps || depth > maxDepth || s.Cmd == nil {
		return unknown
	}
	st := w.cmd(s.Cmd, depth, cond)
	if s.Negated {
		st = st.not()
	}
	return st
}

func (w *walker) cmd(c syntax.Command, depth int, cond bool) tri {
	switch c := c.(type) {
	case *syntax.CallExpr:
		return w.call(c, depth, cond)
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			if len(ic.Cond) == 0 { // the final else
				return w.stmts(ic.Then, depth+1)
			}
			switch w.conds(ic.Cond, depth+1) {
			case yes:
				return w.stmts(ic.Then, depth+1)
			case unknown:
				w.stmts(ic.Then, depth+1)
			}
		}
		return yes
	case *syntax.BinaryCmd:
		switch c.Op {
		case syntax.AndStmt:
			switch w.stmt(c.X, depth+1, true) {
			case no:
				return no
			default:
				return w.stmt(c.Y, depth+1, cond)
			}
		case syntax.OrStmt:
			switch w.stmt(c.X, depth+1, cond) {
			case yes:
				return yes
			default:
				return w.stmt(c.Y, depth+1, cond)
			}
		}
		// A pipeline: a question (cmd | grep -q) or output shaping.
		if !cond {
			w.stmt(c.X, depth+1, false)
		}
		return unknown
	case *syntax.Block:
		return w.stmts(c.Stmts, depth+1)
	case *syntax.Subshell:
		return w.stmts(c.Stmts, depth+1)
	case *syntax.ForClause:
		it, ok := c.Loop.(*syntax.WordIter)
		if !ok {
			w.skip(c, "a C-style loop")
			return unknown
		}
		items, ok := w.fields(it.Items)
		if !ok {
			w.skip(c, "a loop over values computed at run time")
			return unknown
		}
		for _, v := range items {
			w.vars[it.Name.Value] = v
			w.stmts(c.Do, depth+1)
		}
		return yes
	case *syntax.CaseClause:
		word, ok := w.word(c.Word)
		for _, item := range c.Items {
			for _, p := range item.Patterns {
				pat, pok := w.word(p)
				if ok && pok && match(pat, word) {
					return w.stmts(item.Stmts, depth+1)
				}
				if !ok || !pok {
					w.stmts(item.Stmts, depth+1)
					break
				}
			}
		}
		return yes
	case *syntax.FuncDecl:
		w.funcs[c.Name.Value] = c.Body
		return yes
	case *syntax.DeclClause: // local, export, readonly
		for _, a := range c.Args {
			w.assign(a)
		}
		return yes
	case *syntax.WhileClause:
		// Loops that read input; their bodies are walked once.
		w.stmts(c.Do, depth+1)
		return unknown
	}
	if !cond {
		w.skip(c, "")
	}
	return unknown
}

// conds is an if's condition list.
func (w *walker) conds(list []*syntax.Stmt, depth int) tri {
	st := unknown
	for _, s := range list {
		st = w.stmt(s, depth, true)
	}
	return st
}

func (w *walker) assign(a *syntax.Assign) {
	if a.Name == nil {
		return
	}
	if a.Value == nil {
		w.vars[a.Name.Value] = ""
		return
	}
	if v, ok := w.word(a.Value); ok {
		w.vars[a.Name.Value] = v
	} else if isMktemp(a.Value) {
		sym := fmt.Sprintf("%s%d", tempSymbol, len(w.temps)+1)
		w.temps[sym] = ""
		w.vars[a.Name.Value] = sym
	} else {
		delete(w.vars, a.Name.Value)
	}
}

// skip lists a command unit does not reproduce, as written.
func (w *walker) skip(n syntax.Node, why string) {
	var b strings.Builder
	syntax.NewPrinter(syntax.SingleLine(true)).Print(&b, n)
	text := strings.TrimSpace(b.String())
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	k := Skipped{Pos: w.pos(n), Command: text, Why: why}
	if w.seen[k] { // a function called twice is listed once
		return
	}
	w.seen[k] = true
	w.out.Skipped = append(w.out.Skipped, k)
}

// match is a case pattern against a word: literal, "*", or alternatives
// were split by the parser; a trailing or leading * is handled.
func match(pat, word string) bool {
	switch {
	case pat == "*":
		return true
	case strings.HasSuffix(pat, "*") && !strings.Contains(pat[:len(pat)-1], "*"):
		return strings.HasPrefix(word, pat[:len(pat)-1])
	case strings.HasPrefix(pat, "*") && !strings.Contains(pat[1:], "*"):
		return strings.HasSuffix(word, pat[1:])
	}
	return pat == word
}

// tempSymbol starts the value of a variable that holds a mktemp file: no
// path, so nothing else takes it for one.
const tempSymbol = "\x00mktemp"

// isMktemp says whether a word is "$(mktemp …)", quoted or not.
func isMktemp(wd *syntax.Word) bool {
	if len(wd.Parts) != 1 {
		return false
	}
	p := wd.Parts[0]
	if dq, ok := p.(*syntax.DblQuoted); ok && len(dq.Parts) == 1 {
		p = dq.Parts[0]
	}
	cs, ok := p.(*syntax.CmdSubst)
	if !ok || len(cs.Stmts) != 1 {
		return false
	}
	call, ok := cs.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 || len(call.Args[0].Parts) != 1 {
		return false
	}
	lit, ok := call.Args[0].Parts[0].(*syntax.Lit)
	return ok && lit.Value == "mktemp"
}
