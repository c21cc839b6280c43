package supervise

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LogLine is one line a service wrote to stdout or stderr.
type LogLine struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	Text    string    `json:"text"`
}

// ring keeps the last lines of one service's output, and fans new lines out
// to followers (`unit logs -f`).
// The ring grows as lines come, up to size: a quiet service costs no
// memory for lines it never wrote.
type ring struct {
	mu        sync.Mutex
	size      int
	lines     []LogLine
	next      int
	full      bool
	followers map[chan LogLine]struct{}
}

func newRing(size int) *ring {
	return &ring{size: size, followers: map[chan LogLine]struct{}{}}
}

func (r *ring) add(l LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) < r.size {
		r.lines = append(r.lines, l)
		r.next = len(r.lines) % r.size
		r.full = r.next == 0
	} else {
		r.lines[r.next] = l
		r.next = (r.next + 1) % r.size
		if r.next == 0 {
			r.full = true
		}
	}
	for ch := range r.followers {
		select {
		case ch <- l:
		default: // a slow follower loses lines; the service never blocks on it
		}
	}
}

// last returns up to n most recent lines, oldest first (n <= 0: all).
func (r *ring) last(n int) []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []LogLine
	if r.full {
		all = append(all, r.lines[r.next:]...)
	}
	all = append(all, r.lines[:r.next]...)
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

// watch and unwatch add and remove a follower channel; one channel may
// follow many rings (`unit logs -f` with no name).
func (r *ring) watch(ch chan LogLine) {
	r.mu.Lock()
	r.followers[ch] = struct{}{}
	r.mu.Unlock()
}

func (r *ring) unwatch(ch chan LogLine) {
	r.mu.Lock()
	delete(r.followers, ch)
	r.mu.Unlock()
}

// pump reads a service's output line by line until EOF (every writer
// closed), or until the deadline exited sets; then it takes what is already
// in the pipe without waiting and closes it.
func pump(name string, rd *os.File, r *ring, echo func(LogLine), log *slog.Logger) {
	defer rd.Close()
	defer func() {
		if p := recover(); p != nil {
			log.Error("log pump panicked", "name", name, "panic", p)
		}
	}()
	emit := func(b []byte) {
		l := LogLine{Time: time.Now(), Service: name, Text: strings.TrimRight(string(b), "\r\n")}
		r.add(l)
		if echo != nil {
			echo(l)
		}
	}
	if err := readLines(rd, emit); errors.Is(err, os.ErrDeadlineExceeded) {
		_ = readLines(bytes.NewReader(drain(rd)), emit)
	}
}

// maxLine is the longest log line: 4 KiB per service (s6-log's default
// line limit is 8 KiB): longer lines are split, and 100 services cost
// 400 KiB, not 1.6 MiB.
const maxLine = 4 << 10

func readLines(rd io.Reader, emit func([]byte)) error {
	br := bufio.NewReaderSize(rd, maxLine)
	for {
		// ReadSlice splits an over-long line instead of failing on it: a
		// reader that gave up would SIGPIPE the service.
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			emit(b)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
	}
}

// drain reads what is left in a non-blocking pipe, up to 1 MiB. Control
// ignores the expired deadline that stops ordinary reads.
func drain(rd *os.File) []byte {
	sc, err := rd.SyscallConn()
	if err != nil {
		return nil
	}
	var out []byte
	buf := make([]byte, 16<<10)
	_ = sc.Control(func(fd uintptr) {
		for len(out) < 1<<20 {
			n, err := syscall.Read(int(fd), buf)
			if n <= 0 || err != nil {
				return
			}
			out = append(out, buf[:n]...)
		}
	})
	return out
}

// LogWriter is a writer whose lines join the log of name, as a service's
// output does: PID 1 puts its own structured log there (`unit logs unit`).
func (s *Supervisor) LogWriter(name string) io.Writer {
	return &lineWriter{name: name, r: s.ringFor(name)}
}

type lineWriter struct {
	mu   sync.Mutex
	name string
	r    *ring
	part []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			if len(w.part) > maxLine { // a line that never ends is split, as pump does
				w.r.add(LogLine{Time: time.Now(), Service: w.name, Text: string(w.part)})
				w.part = nil
			}
			return len(p), nil
		}
		w.r.add(LogLine{Time: time.Now(), Service: w.name, Text: string(w.part[:i])})
		w.part = w.part[i+1:]
	}
}
