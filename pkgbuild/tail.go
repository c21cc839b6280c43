package pkgbuild

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
)

// tailWriter passes a build's output to w and keeps its last lines for
// progress reports and failure messages.
type tailWriter struct {
	w     io.Writer
	mu    sync.Mutex
	buf   []byte
	lines []string
}

const tailKeep = 40

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.buf[:i]))
		t.buf = t.buf[i+1:]
	}
	if len(t.lines) > tailKeep {
		t.lines = append([]string(nil), t.lines[len(t.lines)-tailKeep:]...)
	}
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return t.w.Write(p)
}

func (t *tailWriter) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return ""
	}
	l := t.lines[len(t.lines)-1]
	if len(l) > 100 {
		l = l[:100] + "…"
	}
	return l
}

func (t *tailWriter) lastN(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ls := t.lines
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func jsonIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
