package supervise

import "strings"

// expandArgv replaces variables in argv from env as systemd does for
// ExecStart= and its siblings: a word that is exactly $NAME becomes the
// value's white-space separated words (none when unset or empty); ${NAME}
// anywhere is the value, within its word; $$ is a $; any other $ stays.
func expandArgv(argv []string, env map[string]string) []string {
	out := make([]string, 0, len(argv))
	for _, w := range argv {
		if name, ok := strings.CutPrefix(w, "$"); ok && validEnvName(name) {
			out = append(out, strings.Fields(env[name])...)
			continue
		}
		out = append(out, expandWord(w, env))
	}
	return out
}

func expandWord(w string, env map[string]string) string {
	if !strings.Contains(w, "$") {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != '$' || i+1 == len(w) {
			b.WriteByte(w[i])
			continue
		}
		switch w[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(w[i+2:], '}')
			if end < 0 || !validEnvName(w[i+2:i+2+end]) {
				b.WriteByte('$')
				continue
			}
			b.WriteString(env[w[i+2:i+2+end]])
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// envMap is an environment list as a map (the last value of a name wins).
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
