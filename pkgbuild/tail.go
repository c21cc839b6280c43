package pkgbuild

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// tailWriter passes a build's output to w and keeps its last lines for
// progress reports and failure messages.
type tailWriter struct {
	w     io.Writer
	mu    sync.Mutex
	buf   []byte
	lines []string
	// steps are the lines the sandbox prints as it starts each step
	// ("+ go build ..."), in order; step counts those seen.
	steps []string
	step  int
	// n counts the lines written; reported is n at the last report that
	// showed a line, so a line is shown once, never again while stale.
	n, reported int
}

const tailKeep = 40

// newTailWriter tails the output of a sandbox that runs steps.
func newTailWriter(w io.Writer, steps [][]string) *tailWriter {
	t := &tailWriter{w: w}
	for _, s := range steps {
		t.steps = append(t.steps, "+ "+strings.Join(s, " "))
	}
	return t
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		line := string(t.buf[:i])
		t.lines = append(t.lines, line)
		t.n++
		if t.step < len(t.steps) && line == t.steps[t.step] {
			t.step++
		}
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

// report is the progress line of a build elapsed into it: always the
// step and the time, then the output's last line when there was output
// since the last report. A compiler that prints nothing for minutes after
// "go: downloading x" must not look stuck on that download, and a line is
// never shown without where the build is.
func (t *tailWriter) report(elapsed time.Duration) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	secs := int(elapsed.Round(time.Second) / time.Second)
	where := fmt.Sprintf("%d s", secs)
	if t.step > 0 {
		where = fmt.Sprintf("step %d/%d, %d s", t.step, len(t.steps), secs)
	}
	if t.n > t.reported {
		t.reported = t.n
		l := t.lines[len(t.lines)-1]
		if len(l) > 100 {
			l = l[:100] + "…"
		}
		return fmt.Sprintf("building (%s): %s", where, l)
	}
	return fmt.Sprintf("building (%s)", where)
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
