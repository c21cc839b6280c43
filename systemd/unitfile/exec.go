package unitfile

import (
	"fmt"
	"path"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

// Command is one command line of an Exec*= key (systemd.service(5),
// COMMAND LINES), unquoted, its specifiers resolved; environment
// variables are expanded at start, by Expand.
type Command struct {
	// Path is the program: absolute, or a name looked up in the default
	// search path.
	Path string
	// Argv is the argument vector, Argv[0] included: Path unless "@"
	// gave it separately.
	Argv []string

	IgnoreFailure bool // "-": a failure (or a missing program) is not one
	SeparateArgv0 bool // "@": the second word is argv[0]
	NoEnvExpand   bool // ":": no $VAR expansion
	Privileged    bool // "+": full privileges, no sandboxing
	NoSetuid      bool // "!": sandboxed, but User=/Group= not applied
	AmbientMagic  bool // "!!": like "!" only where ambient capabilities are missing

	Pos config.Pos
}

// parseExec reads one Exec*= value: one or more command lines separated
// by a lone ";" (a literal one is "\;"). Specifiers resolve in each word
// after unquoting, so a value with spaces stays one argument.
func parseExec(value string, pos config.Pos, spec func(string) (string, error)) ([]Command, error) {
	var out []Command
	p := value
	for {
		first, rest, ok, err := syntax.Word(p, syntax.Unquote|syntax.CUnescape)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		p = rest
		if first == ";" {
			continue
		}
		c := Command{Pos: pos}
		f := first
	prefixes:
		for f != "" {
			switch {
			case f[0] == '-' && !c.IgnoreFailure:
				c.IgnoreFailure = true
			case f[0] == '@' && !c.SeparateArgv0:
				c.SeparateArgv0 = true
			case f[0] == ':' && !c.NoEnvExpand:
				c.NoEnvExpand = true
			case f[0] == '+' && !c.Privileged && !c.NoSetuid && !c.AmbientMagic:
				c.Privileged = true
			case f[0] == '!' && !c.Privileged && !c.NoSetuid && !c.AmbientMagic:
				c.NoSetuid = true
			case f[0] == '!' && !c.Privileged && !c.AmbientMagic:
				c.NoSetuid, c.AmbientMagic = false, true
			default:
				break prefixes
			}
			f = f[1:]
		}
		prog, err := spec(f)
		if err != nil {
			return nil, err
		}
		if prog == "" {
			return nil, fmt.Errorf("empty program in command line %q", value)
		}
		if strings.ContainsAny(prog, "\"'\\\x7f") || strings.IndexFunc(prog, func(r rune) bool { return r < ' ' }) >= 0 {
			return nil, fmt.Errorf("program %q has quotes, backslashes or control characters", prog)
		}
		if strings.HasSuffix(prog, "/") {
			return nil, fmt.Errorf("program %q is a directory", prog)
		}
		if !strings.HasPrefix(prog, "/") && (strings.Contains(prog, "/") || prog == "." || prog == "..") {
			return nil, fmt.Errorf("program %q is neither an absolute path nor a file name", prog)
		}
		if !c.SeparateArgv0 {
			c.Argv = append(c.Argv, prog)
		}
		if strings.HasPrefix(prog, "/") {
			prog = path.Clean(prog)
		}
		c.Path = prog
		semicolon := false
		for !semicolon {
			p = strings.TrimLeft(p, syntax.Whitespace)
			if p == "" {
				break
			}
			// An unquoted lone ";" ends this command; "\;" is a ";"
			// argument (word splitting alone could not tell them from
			// "\\;" or ";" quoted).
			if p[0] == ';' && (len(p) == 1 || strings.IndexByte(syntax.Whitespace, p[1]) >= 0) {
				p, semicolon = p[1:], true
				break
			}
			if strings.HasPrefix(p, `\;`) && (len(p) == 2 || strings.IndexByte(syntax.Whitespace, p[2]) >= 0) {
				p = p[2:]
				c.Argv = append(c.Argv, ";")
				continue
			}
			w, rest, _, err := syntax.Word(p, syntax.Unquote|syntax.CUnescape)
			if err != nil {
				return nil, err
			}
			p = rest
			w, err = spec(w)
			if err != nil {
				return nil, err
			}
			c.Argv = append(c.Argv, w)
		}
		if len(c.Argv) == 0 {
			return nil, fmt.Errorf("no argv[0] after %q", first)
		}
		out = append(out, c)
	}
}

// Expand is the argument vector with the environment's variables
// substituted, as systemd does at start: a word that is "$NAME" alone
// becomes the variable's value split at whitespace (quotes respected,
// then removed), zero words if unset; "${NAME}" anywhere in a word is
// the value verbatim, "" if unset; "$$" is "$". With the ":" prefix the
// argument vector is returned as it is.
func (c Command) Expand(env map[string]string) []string {
	if c.NoEnvExpand {
		return append([]string(nil), c.Argv...)
	}
	out := make([]string, 0, len(c.Argv))
	for _, a := range c.Argv {
		if len(a) >= 1 && a[0] == '$' && (len(a) == 1 || (a[1] != '{' && a[1] != '$')) {
			v, ok := env[a[1:]]
			if !ok {
				continue
			}
			words, _ := syntax.Words(v, syntax.Unquote|syntax.Relax)
			out = append(out, words...)
			continue
		}
		out = append(out, replaceEnv(a, env))
	}
	return out
}

// replaceEnv substitutes ${NAME} and $$ in s (replace_env); anything else,
// an unterminated "${" included, stays as written.
func replaceEnv(s string, env map[string]string) string {
	if strings.IndexByte(s, '$') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(env[s[i+2:i+2+end]])
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
