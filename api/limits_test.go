package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// holdHandler answers "events" with one line and then holds the
// connection until the client goes; anything else with its name.
func holdHandler(ctx context.Context, req Request, send func(any) error) error {
	if req.Cmd == "events" {
		if err := send("held"); err != nil {
			return nil
		}
		<-ctx.Done()
		return nil
	}
	return send(fmt.Sprintf("%s %d", req.Cmd, len(req.Name)))
}

// serveTest serves holdHandler on a socket in dir with opts until the
// test ends.
func serveTest(t *testing.T, dir string, log *slog.Logger, opts ...ServeOption) string {
	t.Helper()
	path := filepath.Join(dir, "unit.sock")
	l, err := Listen(path, ReadOnlyGroup(4242))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		Serve(ctx, l, holdHandler, log, opts...)
	}()
	return path
}

// rawConn dials path; reads fail after a minute (a bound for a broken
// server, not a timing assertion).
func rawConn(t *testing.T, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(time.Minute))
	return c, bufio.NewReader(c)
}

// hold opens a connection that is being served (its first line came).
func hold(t *testing.T, path string) net.Conn {
	t.Helper()
	c, r := rawConn(t, path)
	io.WriteString(c, `{"cmd":"events"}`+"\n")
	if l, err := r.ReadString('\n'); err != nil || !strings.Contains(l, "held") {
		t.Fatalf("hold: %q %v", l, err)
	}
	return c
}

// TestRequestSize: a request line of exactly MaxRequest bytes is served;
// one byte more is refused as soon as it is one byte more (no newline
// needed, nothing more read).
func TestRequestSize(t *testing.T) {
	// No read deadline to speak of: only the size can end the read.
	path := serveTest(t, t.TempDir(), nil, ReadTimeout(time.Hour))
	req := func(n int) string { // {"cmd":"status","name":"aaa…"} of n bytes
		head, tail := `{"cmd":"status","name":"`, `"}`
		return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
	}
	c, r := rawConn(t, path)
	io.WriteString(c, req(MaxRequest)+"\n")
	name := MaxRequest - len(`{"cmd":"status","name":""}`)
	if l, err := r.ReadString('\n'); err != nil || l != fmt.Sprintf(`{"data":"status %d"}`+"\n", name) {
		t.Errorf("a request of MaxRequest bytes: %q %v", l, err)
	}

	c, r = rawConn(t, path)
	go io.WriteString(c, req(MaxRequest+1)) // no newline: it never needs one
	if l, err := r.ReadString('\n'); err != nil || !strings.Contains(l, `"error":"request too large: more than 65536 bytes"`) {
		t.Errorf("a request of MaxRequest+1 bytes: %q %v", l, err)
	}
	if _, err := r.ReadByte(); err == nil {
		t.Error("the connection stayed open after the refusal")
	}
	if err := Call(context.Background(), path, Request{Cmd: "status", Name: strings.Repeat("a", MaxRequest)}, nil); err == nil || !strings.Contains(err.Error(), "request too large") {
		t.Errorf("Call with a too large request: %v", err)
	}
}

// TestReadDeadline: a client that sends nothing, or half a request, is
// told so and cut off. The deadline is short here; what is asserted is
// the answer, not when it came.
func TestReadDeadline(t *testing.T) {
	path := serveTest(t, t.TempDir(), nil, ReadTimeout(20*time.Millisecond))
	for _, sent := range []string{"", `{"cmd":"sta`} {
		c, r := rawConn(t, path)
		io.WriteString(c, sent)
		if l, err := r.ReadString('\n'); err != nil || !strings.Contains(l, `"error":"no request within 20ms"`) {
			t.Errorf("sent %q: %q %v", sent, l, err)
		}
		if _, err := r.ReadByte(); err == nil {
			t.Errorf("sent %q: the connection stayed open", sent)
		}
	}
	// The deadline is the request's: a follow outlives it.
	c, r := rawConn(t, path)
	io.WriteString(c, `{"cmd":"events"}`+"\n")
	r.ReadString('\n')
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) // ten deadlines
	if _, err := r.ReadByte(); !os.IsTimeout(err) {
		t.Errorf("a follow was cut off: %v", err)
	}
}

// TestRootConnCap: root's connections are capped too (its own clients
// are bounded); root holds the limit, the one past it is refused.
func TestRootConnCap(t *testing.T) {
	path := serveTest(t, t.TempDir(), nil, MaxConns(3, 4, 2))
	hold(t, path)
	hold(t, path)
	if err := Call(context.Background(), path, Request{Cmd: "status"}, nil); err == nil || err.Error() != "too many connections: root holds 2, the limit" {
		t.Errorf("root's third connection: %v", err)
	}
}

// TestUserConnCaps: a uid other than root holds at most the per-user
// cap, all of them together at most the users' cap, and root gets in
// whatever they hold.
func TestUserConnCaps(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run clients as other users")
	}
	dir := publicTempDir(t)
	path := serveTest(t, dir, nil, MaxConns(3, 4, 2))
	bin := copyTestBinary(t, dir)
	// holder runs holdConns as uid: its n connections are served, then
	// it reports on one more, and holds until the test ends.
	holder := func(uid uint32, n int) (held, extra string) {
		c := exec.Command(bin, "-test.run=^$")
		c.Env = append(os.Environ(), "UNIT_API_TEST_HOLD="+path, "UNIT_API_TEST_N="+strconv.Itoa(n))
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: 4242}}
		c.Stderr = os.Stderr
		stdin, _ := c.StdinPipe()
		out, _ := c.StdoutPipe()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close(); c.Wait() })
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			switch l := sc.Text(); {
			case strings.HasPrefix(l, "held "):
				held = l
			case strings.HasPrefix(l, "extra: "):
				return held, l
			}
		}
		t.Fatalf("uid %d: the holder ended: %v", uid, sc.Err())
		return
	}
	if held, extra := holder(65534, 3); held != "held 3" || extra != "extra: too many connections: uid 65534 holds 3, the limit for one user" {
		t.Errorf("uid 65534: %q, %q", held, extra)
	}
	if held, extra := holder(65533, 1); held != "held 1" || extra != "extra: too many connections: users other than root hold 4, the limit" {
		t.Errorf("uid 65533: %q, %q", held, extra)
	}
	if err := Call(context.Background(), path, Request{Cmd: "status"}, nil); err != nil {
		t.Errorf("root, with the users' cap reached: %v", err)
	}
}

// holdConns is a child of TestUserConnCaps: it holds UNIT_API_TEST_N
// served connections, says so, tries one more, and waits for stdin to
// close.
func holdConns(sock string) {
	n, _ := strconv.Atoi(os.Getenv("UNIT_API_TEST_N"))
	var conns []net.Conn
	for range n {
		c, err := net.Dial("unix", sock)
		if err != nil {
			fmt.Println("dial:", err)
			return
		}
		conns = append(conns, c)
		io.WriteString(c, `{"cmd":"events"}`+"\n")
		var r reply
		if err := json.NewDecoder(c).Decode(&r); err != nil || r.Error != "" {
			fmt.Println("extra: not held:", err, r.Error)
			return
		}
	}
	fmt.Println("held", len(conns))
	fmt.Println("extra:", Call(context.Background(), sock, Request{Cmd: "status"}, nil))
	io.Copy(io.Discard, os.Stdin)
}

// failingListener fails its first Accepts as a process out of
// descriptors does.
type failingListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	fail := l.fails > 0
	l.fails--
	l.mu.Unlock()
	if fail {
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// records keeps the messages logged.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// TestAcceptSurvivesEMFILE: accept failing with EMFILE (every descriptor
// held) is waited out, logged once, and a later client is served.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unit.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := &records{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(ctx, &failingListener{Listener: l, fails: 4}, holdHandler, slog.New(rec))
	}()
	cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
	defer ccancel()
	var got json.RawMessage
	if err := Call(cctx, path, Request{Cmd: "status"}, func(b json.RawMessage) error { got = b; return nil }); err != nil || string(got) != `"status 0"` {
		t.Fatalf("a client after EMFILE: %s %v", got, err)
	}
	cancel()
	<-done // Serve ends when its context does
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.msgs) != 2 || !strings.HasPrefix(rec.msgs[0], "WARN accept failed") || !strings.HasPrefix(rec.msgs[1], "INFO accepting again") {
		t.Errorf("logged %q, want one warning for the run of failures and one line when it passed", rec.msgs)
	}
}
