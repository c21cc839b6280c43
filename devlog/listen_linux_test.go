package devlog

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// serve starts a listener at a fresh path; handle gets every message.
func serve(t *testing.T, handle func(Message)) (*Listener, string) {
	l, path, _ := serveStop(t, handle)
	return l, path
}

// serveStop is serve with a stop that returns once Serve has returned
// (every queued message handled).
func serveStop(t *testing.T, handle func(Message)) (*Listener, string, func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx, handle) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("socket left behind: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return l, path, stop
}

func send(t *testing.T, path string, msgs ...string) {
	t.Helper()
	c, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListenCredentials(t *testing.T) {
	got := make(chan Message, 1)
	_, path := serve(t, func(m Message) { got <- m })
	send(t, path, "<28>Dec  6 01:02:03 haproxy[9]: backend down")
	m := <-got
	if m.PID != int32(os.Getpid()) || m.UID != uint32(os.Getuid()) {
		t.Errorf("credentials pid %d uid %d, want %d %d", m.PID, m.UID, os.Getpid(), os.Getuid())
	}
	if m.Tag != "haproxy" || m.Severity != 4 || m.Text != "backend down" {
		t.Errorf("message %+v", m)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket mode %v (%v), want 0666: every service must be able to log", fi.Mode(), err)
	}
}

// A flood while the handler is stuck is dropped and counted: the reader
// keeps draining the socket, so senders are not held up by the handler.
// Every message is either handled or counted as dropped.
func TestListenFloodDrops(t *testing.T) {
	release := make(chan struct{})
	var handled atomic.Int64
	sentinel := make(chan struct{})
	var ended sync.Once
	l, path, stop := serveStop(t, func(m Message) {
		<-release
		handled.Add(1)
		if m.Tag == "end" {
			ended.Do(func() { close(sentinel) })
		}
	})
	// More than the socket's receive queue can hold: the sends finish only
	// if the reader keeps reading while the handler is stuck.
	const n = Queue * 8
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = "<14>flood: x"
	}
	send(t, path, msgs...)
	close(release)
	// The handler drains what was queued; then a last message gets in.
	for {
		send(t, path, "<14>end: x")
		select {
		case <-sentinel:
		default:
			runtime.Gosched()
			continue
		}
		break
	}
	stop()
	got, dropped := handled.Load(), int64(l.Dropped())
	if dropped == 0 {
		t.Errorf("nothing dropped from a flood of %d with a queue of %d", n, Queue)
	}
	if total := int64(l.Received()); got+dropped != total || total < n+1 {
		t.Errorf("handled %d + dropped %d != received %d (sent at least %d)", got, dropped, total, n+1)
	}
}

func TestListenTruncates(t *testing.T) {
	got := make(chan Message, 1)
	_, path := serve(t, func(m Message) { got <- m })
	send(t, path, "<14>big: "+strings.Repeat("x", MaxMessage*2))
	m := <-got
	if !m.Truncated || len(m.Text) > MaxMessage {
		t.Errorf("truncated %v, text %d bytes", m.Truncated, len(m.Text))
	}
}

// Listen replaces a stale socket but never a file or a symlink there.
func TestListenRefusesNonSocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link} {
		if _, err := Listen(p); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("Listen(%s) = %v, want a refusal", p, err)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("file changed: %q", b)
	}
	stale := filepath.Join(dir, "stale")
	l, err := Listen(stale)
	if err != nil {
		t.Fatal(err)
	}
	// Closed without Serve: the socket file stays, as after a crash.
	if err := closeFD(l); err != nil {
		t.Fatal(err)
	}
	l2, err := Listen(stale)
	if err != nil {
		t.Fatalf("a stale socket should be replaced: %v", err)
	}
	closeFD(l2)
}
