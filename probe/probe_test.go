package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

func server(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestHTTP(t *testing.T) {
	ok := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			fmt.Fprint(w, `{"status":"ok","db":{"replicas":[{"lag":0}],"up":true}}`)
		case "/chunked":
			w.(http.Flusher).Flush() // forces chunked on HTTP/1.1; HTTP/1.0 gets a plain body
			fmt.Fprint(w, "hello world")
		case "/bad":
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		default:
			fmt.Fprint(w, "<h1>hello from unit</h1>")
		}
	})
	cases := []struct {
		name string
		spec Spec
		err  string // "" passes; else a part of the error
	}{
		{"status", Spec{HTTP: ok + "/"}, ""},
		{"body", Spec{HTTP: ok + "/", Body: regexp.MustCompile(`hello from \w+`)}, ""},
		{"body mismatch", Spec{HTTP: ok + "/", Body: regexp.MustCompile(`^ok$`)}, `expected body ~ "^ok$", got "<h1>hello from unit</h1>"`},
		{"wrong status", Spec{HTTP: ok + "/bad", Body: regexp.MustCompile(`ok`)}, "expected status 200, got 502 Bad Gateway"},
		{"expected status", Spec{HTTP: ok + "/bad", Status: 502}, ""},
		{"json", Spec{HTTP: ok + "/health", JSON: map[string]string{"status": "ok", "db.replicas.0.lag": "0", "db.up": "true"}}, ""},
		{"json mismatch", Spec{HTTP: ok + "/health", JSON: map[string]string{"status": "degraded"}}, `expected json status = "degraded", got "ok"`},
		{"json missing", Spec{HTTP: ok + "/health", JSON: map[string]string{"db.replicas.3.lag": "0"}}, "no such field"},
		{"json not json", Spec{HTTP: ok + "/", JSON: map[string]string{"a": "b"}}, "expected a JSON body"},
		{"chunked", Spec{HTTP: ok + "/chunked", Body: regexp.MustCompile(`^hello world$`)}, ""},
		{"refused", Spec{HTTP: "http://127.0.0.1:1/"}, "refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Run(context.Background(), c.spec, nil)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("failed: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("got %v, want an error with %q", err, c.err)
			}
		})
	}
}

// A chunked answer (a server that ignores HTTP/1.0) is put together.
func TestHTTPChunkedBody(t *testing.T) {
	url := rawServer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
	if err := Run(context.Background(), Spec{HTTP: url, Body: regexp.MustCompile(`^hello world$`)}, nil); err != nil {
		t.Fatal(err)
	}
}

// A server that accepts and never answers: the probe ends at its timeout.
func TestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	err = Run(context.Background(), Spec{HTTP: "http://" + l.Addr().String() + "/", Timeout: 200 * time.Millisecond}, nil)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("%v after %s", err, time.Since(start))
	}
}

// A Redis-like exchange: PING, +PONG.
func TestTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				if line == "PING\r\n" {
					fmt.Fprint(c, "+PONG\r\n")
				} else {
					fmt.Fprint(c, "-ERR unknown command\r\n")
				}
			}()
		}
	}()
	addr := l.Addr().String()
	if err := Run(context.Background(), Spec{TCP: addr}, nil); err != nil {
		t.Errorf("connect: %v", err)
	}
	if err := Run(context.Background(), Spec{TCP: addr, Send: "PING\r\n", Expect: regexp.MustCompile(`^\+PONG`)}, nil); err != nil {
		t.Errorf("PING: %v", err)
	}
	err = Run(context.Background(), Spec{TCP: addr, Send: "PONG\r\n", Expect: regexp.MustCompile(`^\+PONG`)}, nil)
	if err == nil || !strings.Contains(err.Error(), `expected answer ~ "^\\+PONG", got "-ERR unknown command\r\n"`) {
		t.Errorf("wrong answer: %v", err)
	}
}

// run is a Runner for tests: os/exec is fine outside PID 1.
func run(ctx context.Context, argv []string) (int, []byte, error) {
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out, nil
	}
	return 0, out, err
}

func TestExec(t *testing.T) {
	cases := []struct {
		spec Spec
		err  string
	}{
		{Spec{Exec: []string{"sh", "-c", "echo PONG"}, Output: regexp.MustCompile(`^PONG$`)}, `expected output ~ "^PONG$", got "PONG\n"`},
		{Spec{Exec: []string{"sh", "-c", "echo PONG"}, Output: regexp.MustCompile(`(?m)^PONG$`)}, ""},
		{Spec{Exec: []string{"sh", "-c", "echo no; exit 3"}}, `expected exit 0, got exit 3: "no\n"`},
		{Spec{Exec: []string{"sh", "-c", "exit 3"}, Exit: 3}, ""},
		{Spec{Exec: []string{"/nonexistent"}}, "no such file"},
	}
	for _, c := range cases {
		err := Run(context.Background(), c.spec, run)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%v: %v", c.spec.Exec, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: got %v, want %q", c.spec.Exec, err, c.err)
		}
	}
}

func TestParseHTTP(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080/x": "",
		"http://localhost/":       "",
		"https://localhost/":      "https is not supported",
		"127.0.0.1:80":            "want http://",
		"http:///x":               "no host",
		"http://u:p@h/":           "credentials",
		"http://h:99999/":         "bad port",
	} {
		_, err := ParseHTTP(raw)
		if (want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHTTP(%q) = %v, want %q", raw, err, want)
		}
	}
}

// rawServer answers one connection with answer (after reading the
// request line) and closes it.
func rawServer(t *testing.T, answer string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		bufio.NewReader(c).ReadString('\n')
		fmt.Fprint(c, answer)
	}()
	return "http://" + l.Addr().String() + "/"
}

// TestGetStreams: Get hands over a body of any size as it comes (a
// bundle is hundreds of megabytes), undoes chunks, and says when an
// answer ends before its Content-Length or inside a chunk.
func TestGetStreams(t *testing.T) {
	big := strings.Repeat("x", 3*maxAnswer)
	for _, c := range []struct {
		name, answer, want string
		err                error
	}{
		{"length", fmt.Sprintf("HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(big), big), big, nil},
		{"to the end", "HTTP/1.0 200 OK\r\n\r\n" + big, big, nil},
		{"chunked", fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n3\r\nend\r\n0\r\n\r\n", len(big), big), big + "end", nil},
		{"short of its length", "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", "abc", io.ErrUnexpectedEOF},
		{"cut inside a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc", "abc", io.ErrUnexpectedEOF},
	} {
		resp, err := Get(context.Background(), rawServer(t, c.answer))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != c.want || !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: %d bytes, %v; want %d bytes, %v", c.name, len(got), err, len(c.want), c.err)
		}
	}
	if _, err := Get(context.Background(), rawServer(t, "HTTP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n")); err == nil {
		t.Error("a negative Content-Length was taken")
	}
}

// TestShort: health's and ready's short forms are probes of their own:
// http:PORT/PATH passes on any 2xx or 3xx (and says what came
// otherwise), tcp:PORT on a connection, exec:CMD on exit 0.
func TestShort(t *testing.T) {
	codes := map[string]int{"/ok": 200, "/moved": 302, "/bad": 502}
	u := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			w.Header().Set("Location", "/ok")
		}
		w.WriteHeader(codes[r.URL.Path])
	})
	port := u[strings.LastIndex(u, ":")+1:]
	for path, pass := range map[string]bool{"ok": true, "moved": true, "bad": false} {
		s, ok := Short("http:" + port + "/" + path)
		if !ok {
			t.Fatalf("http:%s/%s not a short form", port, path)
		}
		err := Run(context.Background(), s, nil)
		if (err == nil) != pass {
			t.Errorf("http:%s/%s: %v, want pass=%v", port, path, err, pass)
		}
		if !pass && (err == nil || !strings.Contains(err.Error(), "expected a 2xx or 3xx status, got 502")) {
			t.Errorf("the failure does not say what came: %v", err)
		}
	}
	if s, ok := Short("tcp:" + port); !ok || Run(context.Background(), s, nil) != nil {
		t.Errorf("tcp:%s did not pass", port)
	}
	run := func(ctx context.Context, argv []string) (int, []byte, error) {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out, nil
		}
		return 0, out, err
	}
	if s, ok := Short("exec:exit 3"); !ok || Run(context.Background(), s, run) == nil {
		t.Error("exec:exit 3 passed")
	}
	if s, ok := Short("exec:true"); !ok || Run(context.Background(), s, run) != nil {
		t.Error("exec:true failed")
	}
	for _, bad := range []string{"tcp:", "http:", "exec:", "check:x", "udp:53", "started"} {
		if _, ok := Short(bad); ok {
			t.Errorf("%q read as a short form", bad)
		}
	}
}

// TestShortFollowsConfig: Short reads a spec as config validates it, so
// what config refuses never runs as a probe.
func TestShortFollowsConfig(t *testing.T) {
	for _, spec := range []string{"tcp:x", "tcp:0", "http:/x", "http:70000/", "exec: ", "tcp:80", "http:80/x", "exec:true"} {
		_, err := config.ParseHealth(spec)
		if _, ok := Short(spec); ok != (err == nil) {
			t.Errorf("%q: Short ok = %v, config: %v", spec, ok, err)
		}
	}
}
