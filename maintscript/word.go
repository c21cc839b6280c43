package maintscript

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// word is a word's value when every part of it is known.
func (w *walker) word(wd *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range wd.Parts {
		v, ok := w.part(p)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

func (w *walker) part(p syntax.WordPart) (string, bool) {
	switch p := p.(type) {
	case *syntax.Lit:
		if glob(p.Value) {
			return "", false // a glob: what it matches is known only at run time
		}
		return p.Value, true
	case *syntax.SglQuoted:
		return p.Value, true
	case *syntax.DblQuoted:
		var b strings.Builder
		for _, q := range p.Parts {
			if l, ok := q.(*syntax.Lit); ok {
				b.WriteString(l.Value) // globs do not expand in quotes
				continue
			}
			v, ok := w.part(q)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
		return b.String(), true
	case *syntax.ParamExp:
		return w.param(p)
	}
	return "", false // command substitution, arithmetic: run time
}

func (w *walker) param(p *syntax.ParamExp) (string, bool) {
	if p.Param == nil || p.Length || p.Excl || p.Index != nil || p.Slice != nil || p.Repl != nil {
		return "", false
	}
	v, set := w.vars[p.Param.Value]
	if p.Exp == nil {
		return v, set
	}
	alt := func() (string, bool) {
		if p.Exp.Word == nil {
			return "", true
		}
		return w.word(p.Exp.Word)
	}
	switch p.Exp.Op {
	case syntax.DefaultUnsetOrNull, syntax.DefaultUnset: // ${V:-x}, ${V-x}
		if set && (v != "" || p.Exp.Op == syntax.DefaultUnset) {
			return v, true
		}
		if !set && w.known(p.Param.Value) {
			return alt()
		}
		if set {
			return alt()
		}
	case syntax.AlternateUnsetOrNull, syntax.AlternateUnset: // ${V:+x}
		if set && (v != "" || p.Exp.Op == syntax.AlternateUnset) {
			return alt()
		}
		if set {
			return "", true
		}
	}
	return "", false
}

// known says whether an unset variable is known to be unset: the ones
// dpkg sets or not.
func (w *walker) known(name string) bool {
	return name == "DPKG_ROOT"
}

// fields are the words of a command line after splitting: an unquoted
// lone $VAR splits on white space, as the shell does.
func (w *walker) fields(words []*syntax.Word) ([]string, bool) {
	var out []string
	for _, wd := range words {
		v, ok := w.word(wd)
		if !ok {
			return nil, false
		}
		if len(wd.Parts) == 1 {
			if _, param := wd.Parts[0].(*syntax.ParamExp); param {
				out = append(out, strings.Fields(v)...)
				continue
			}
		}
		out = append(out, v)
	}
	return out, true
}

// glob says whether an unquoted literal would be expanded as a pattern.
func glob(s string) bool {
	if strings.ContainsAny(s, "*?") {
		return true
	}
	i := strings.IndexByte(s, '[')
	return i >= 0 && strings.IndexByte(s[i+1:], ']') >= 0
}
