package execfile

import (
	"bytes"
	"strings"
)

// ScriptInterp reads a #! line from the head of a file: the interpreter and
// its arguments; ok is false when head is not a script or the line is empty.
func ScriptInterp(head []byte) (interp string, args []string, ok bool) {
	if !bytes.HasPrefix(head, []byte("#!")) {
		return "", nil, false
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "", nil, false
	}
	return fields[0], fields[1:], true
}
