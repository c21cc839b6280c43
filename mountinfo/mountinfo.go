// Package mountinfo reads the kernel's /proc/self/mountinfo text, which PID 1
// (what is already mounted) and the mount resource (what is mounted where)
// both need.
package mountinfo

import (
	"strconv"
	"strings"
)

// Points returns the mount points (the fifth field) of mountinfo text,
// with the kernel's octal escapes (\040 for a space) decoded.
func Points(text string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 {
			out[Unescape(f[4])] = true
		}
	}
	return out
}

// Unescape decodes mountinfo's \ooo escapes; anything else is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
