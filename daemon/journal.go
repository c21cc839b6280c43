package daemon

import (
	"io"
	"log/slog"
	"sync"
)

// Journal holds PID 1's own structured log until the supervisor exists,
// then writes it to the supervisor's log "unit" (`unit logs unit`). The
// console gets a short line per event instead (printEvents) and only the
// warnings and errors of this log.
type Journal struct {
	mu   sync.Mutex
	w    io.Writer
	held [][]byte
}

// maxHeld bounds what is kept before the supervisor starts.
const maxHeld = 1000

func (j *Journal) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.w != nil {
		return j.w.Write(p)
	}
	if len(j.held) < maxHeld {
		j.held = append(j.held, append([]byte(nil), p...))
	}
	return len(p), nil
}

// attach sends what was held, then everything, to w.
func (j *Journal) attach(w io.Writer) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, p := range j.held {
		w.Write(p)
	}
	j.held, j.w = nil, w
}

// BootLogger logs INFO and up to the journal, WARN and up to the console,
// each record one line (LineHandler): the journal stamps its own time, and
// the console's lines start "unit: " as its event lines do.
func BootLogger(console io.Writer, j *Journal) *slog.Logger {
	return slog.New(slog.NewMultiHandler(
		LineHandler(console, "unit: ", slog.LevelWarn),
		LineHandler(j, "", slog.LevelInfo),
	))
}

// LineHandler writes each record of level and up as one logfmt line
// (slog's text format) after prefix, without slog's time=: where it goes
// (the journal, a log ring) stamps the time once, and a console or a
// terminal needs none.
func LineHandler(w io.Writer, prefix string, level slog.Leveler) slog.Handler {
	if prefix != "" {
		w = &prefixWriter{w: w, prefix: []byte(prefix)}
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
}

// prefixWriter starts each write, which slog's handlers make one a record,
// with prefix.
type prefixWriter struct {
	w      io.Writer
	prefix []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := p.w.Write(append(append([]byte(nil), p.prefix...), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}
