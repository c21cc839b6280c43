package pid1

import (
	"io"
	"log/slog"
	"sync"
)

// journal holds PID 1's own structured log until the supervisor exists,
// then writes it to the supervisor's log "unit" (`unit logs unit`). The
// console gets a short line per event instead (printEvents) and only the
// warnings and errors of this log.
type journal struct {
	mu   sync.Mutex
	w    io.Writer
	held [][]byte
}

// maxHeld bounds what is kept before the supervisor starts.
const maxHeld = 1000

func (j *journal) Write(p []byte) (int, error) {
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
func (j *journal) attach(w io.Writer) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, p := range j.held {
		w.Write(p)
	}
	j.held, j.w = nil, w
}

// bootLogger logs INFO and up to the journal, WARN and up to the console.
func bootLogger(console io.Writer, j *journal) *slog.Logger {
	return slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(console, &slog.HandlerOptions{Level: slog.LevelWarn}),
		slog.NewTextHandler(j, &slog.HandlerOptions{Level: slog.LevelInfo}),
	))
}
