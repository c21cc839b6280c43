package web

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/supervise"
)

// fakeDaemon answers the control socket as unit does for what the page
// asks: status, logs (a line now and one on demand), and the buttons'
// commands, which it records.
type fakeDaemon struct {
	socket string
	mu     sync.Mutex
	cmds   []string
	more   chan string // log lines sent to followers
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{socket: filepath.Join(t.TempDir(), "unit.sock"), more: make(chan string, 4)}
	l, err := api.Listen(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go api.Serve(ctx, l, func(ctx context.Context, req api.Request, send func(any) error) error {
		switch req.Cmd {
		case "status":
			return send(api.StatusReply{Release: "git:abc123", Services: []api.ServiceStatus{
				{Name: "web", State: "running", PID: 42, Restarts: 1},
				{Name: "<script>x</script>", State: "failed", LastExit: "exit 7"},
			}})
		case "logs":
			if err := send(supervise.LogLine{Time: time.Now(), Service: "web", Text: "first line"}); err != nil {
				return nil
			}
			for {
				select {
				case <-ctx.Done():
					return nil
				case s := <-d.more:
					if err := send(supervise.LogLine{Time: time.Now(), Service: "web", Text: s}); err != nil {
						return nil
					}
				}
			}
		case "restart", "stop", "start":
			d.mu.Lock()
			d.cmds = append(d.cmds, req.Cmd+" "+req.Name)
			d.mu.Unlock()
			return nil
		}
		return fmt.Errorf("unknown command %q", req.Cmd)
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return d
}

func (d *fakeDaemon) commands() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.cmds...)
}

// startWeb serves the page for d on a loopback port.
func startWeb(t *testing.T, d *fakeDaemon, cfg Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Socket = d.socket
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go Serve(ctx, l, cfg)
	return l.Addr().String()
}

// exchange sends raw and returns the whole answer.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func basic(user, pass string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\n"
}

// TestPageAndActions: with credentials the page lists the services
// (escaped), the buttons reach the daemon only with the X-Unit header
// and when control is on; without credentials nothing is answered but 401.
func TestPageAndActions(t *testing.T) {
	d := newFakeDaemon(t)
	addr := startWeb(t, d, Config{User: "admin", Password: "correct horse battery", Control: true})
	auth := basic("admin", "correct horse battery")

	page := exchange(t, addr, "GET / HTTP/1.1\r\nHost: localhost\r\n"+auth+"\r\n")
	for _, want := range []string{"HTTP/1.1 200 OK\r\n", "Content-Security-Policy: default-src 'self'", `<tr data-service="web">`,
		"<code>git:abc123</code>", `&lt;script&gt;x&lt;/script&gt;`, `<button data-action=restart data-name="web">`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>x</script>") {
		t.Error("a service name went into the page unescaped")
	}
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\n" + basic("admin", "wrong password!") + "\r\n",
		"POST /api/restart?name=web HTTP/1.1\r\nHost: localhost\r\nX-Unit: 1\r\n\r\n",
		"GET /api/status HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic !!!\r\n\r\n",
	} {
		if got := exchange(t, addr, raw); !strings.HasPrefix(got, "HTTP/1.1 401 ") || !strings.Contains(got, "WWW-Authenticate: Basic") {
			t.Errorf("%q: want 401, got\n%s", raw, got)
		}
	}
	// A form of another site cannot add X-Unit: refused.
	if got := exchange(t, addr, "POST /api/restart?name=web HTTP/1.1\r\nHost: localhost\r\n"+auth+"\r\n"); !strings.HasPrefix(got, "HTTP/1.1 403 ") {
		t.Errorf("POST without X-Unit:\n%s", got)
	}
	if got := exchange(t, addr, "POST /api/restart?name=web HTTP/1.1\r\nHost: localhost\r\nX-Unit: 1\r\n"+auth+"\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Errorf("restart:\n%s", got)
	}
	if got := exchange(t, addr, "POST /api/kill?name=web HTTP/1.1\r\nHost: localhost\r\nX-Unit: 1\r\n"+auth+"\r\n"); !strings.HasPrefix(got, "HTTP/1.1 404 ") {
		t.Errorf("an unknown action:\n%s", got)
	}
	if got := d.commands(); len(got) != 1 || got[0] != "restart web" {
		t.Errorf("the daemon got %q, want just restart web", got)
	}

	// Read-only: no buttons, actions refused.
	ro := startWeb(t, d, Config{User: "admin", Password: "correct horse battery"})
	if page := exchange(t, ro, "GET / HTTP/1.1\r\nHost: localhost\r\n"+auth+"\r\n"); strings.Contains(page, "<button") {
		t.Error("a read-only page has buttons")
	}
	if got := exchange(t, ro, "POST /api/stop?name=web HTTP/1.1\r\nHost: localhost\r\nX-Unit: 1\r\n"+auth+"\r\n"); !strings.HasPrefix(got, "HTTP/1.1 403 ") {
		t.Errorf("stop on a read-only page:\n%s", got)
	}
	if got := d.commands(); len(got) != 1 {
		t.Errorf("the daemon got %q", got)
	}
}

// TestLogsStream: /api/logs is a server-sent event stream that carries a
// line the daemon sends after the page asked, as it comes.
func TestLogsStream(t *testing.T) {
	d := newFakeDaemon(t)
	addr := startWeb(t, d, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /api/logs?name=web HTTP/1.1\r\nHost: localhost\r\n\r\n")
	r := bufio.NewReader(c)
	waitLine := func(want string) {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended before %q: %v", want, err)
			}
			if strings.HasPrefix(l, "data: ") && strings.HasSuffix(strings.TrimSpace(l), want) {
				return
			}
		}
	}
	waitLine("web: first line")
	d.more <- "a line that came later"
	waitLine("web: a line that came later")
}

// TestRefusesBadRequests: what a client may send is bounded; anything
// else gets 400, and the server keeps serving.
func TestRefusesBadRequests(t *testing.T) {
	d := newFakeDaemon(t)
	addr := startWeb(t, d, Config{})
	many := "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 100) + "\r\n"
	for name, raw := range map[string]string{
		"long line":    "GET /" + strings.Repeat("a", 10<<10) + " HTTP/1.1\r\n\r\n",
		"many headers": many,
		"a body":       "POST /api/restart?name=web HTTP/1.1\r\nContent-Length: 5\r\nX-Unit: 1\r\n\r\nhello",
		"chunked body": "POST /api/restart HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"method":       "DELETE / HTTP/1.1\r\n\r\n",
		"absolute url": "GET http://evil/ HTTP/1.1\r\n\r\n",
		"not http":     "hello\r\n\r\n",
		"bad header":   "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
		"bad query":    "GET /?a=%zz HTTP/1.1\r\n\r\n",
	} {
		if got := exchange(t, addr, raw); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
			t.Errorf("%s: want 400, got %.60q", name, got)
		}
	}
	if got := exchange(t, addr, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 ") || !strings.Contains(got, `"release":"git:abc123"`) {
		t.Errorf("after all that:\n%s", got)
	}
}

// TestNoPasswordOnlyOnLoopback: a server reachable from elsewhere needs
// a password; an auth file readable by others is refused.
func TestNoPasswordOnlyOnLoopback(t *testing.T) {
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := Serve(context.Background(), l, Config{}); err == nil || !strings.Contains(err.Error(), "refusing to serve without a password") {
		t.Errorf("Serve on 0.0.0.0 without a password: %v", err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "auth")
	os.WriteFile(f, []byte("admin:correct horse battery\n"), 0o644)
	if _, _, err := ReadAuth(f); err == nil || !strings.Contains(err.Error(), "must not be readable") {
		t.Errorf("a world-readable auth file: %v", err)
	}
	os.Chmod(f, 0o600)
	if u, p, err := ReadAuth(f); err != nil || u != "admin" || p != "correct horse battery" {
		t.Errorf("ReadAuth: %q %q %v", u, p, err)
	}
	os.WriteFile(f, []byte("admin:short\n"), 0o600)
	if _, _, err := ReadAuth(f); err == nil {
		t.Error("a short password was taken")
	}
}

// FuzzReadRequest: no input makes the parser panic or take a body.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("GET /api/logs?name=web HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic YTpi\r\n\r\n"))
	f.Add([]byte("POST /api/restart?name=web HTTP/1.0\r\nX-Unit: 1\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := readRequest(bufio.NewReader(strings.NewReader(string(b))))
		if err == nil && (req.header["content-length"] != "" && req.header["content-length"] != "0") {
			t.Errorf("a request with a body was taken: %q", b)
		}
	})
}

// TestPageShowsReportAndDrift: the last convergence report and the drift
// repairs of the kept reports are on the page.
func TestPageShowsReportAndDrift(t *testing.T) {
	d := newFakeDaemon(t)
	reports := t.TempDir()
	os.WriteFile(filepath.Join(reports, "20261129T000001.000000000.json"), []byte(`{"time":"2026-11-29T00:00:01Z","trigger":"drift","changes":[{"resource":"file:/etc/motd","result":"repaired","what":["content"]}],"unchanged":3}`), 0o644)
	os.WriteFile(filepath.Join(reports, "20261129T000002.000000000.json"), []byte(`{"time":"2026-11-29T00:00:02Z","trigger":"config","changes":[{"resource":"file:/etc/new","result":"changed","what":["created"]}],"unchanged":4}`), 0o644)
	addr := startWeb(t, d, Config{Reports: reports})
	page := exchange(t, addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	for _, want := range []string{"<ul id=drift><li>2026-11-29 00:00:01 file:/etc/motd repaired: content</li></ul>", "(trigger: config)", "file:/etc/new: created"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}
