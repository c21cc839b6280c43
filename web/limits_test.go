package web

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHostChecked: a request whose Host is not the page's address (DNS
// rebinding sends the attacker's name) is refused before anything else;
// the loopback names, any port, and configured names are taken.
func TestHostChecked(t *testing.T) {
	d := newFakeDaemon(t)
	addr := startWeb(t, d, Config{Hosts: []string{"Status.Example.net"}})
	for host, want := range map[string]string{
		"evil.example":               "421",
		"evil.example:" + port(addr): "421",
		"127.0.0.1.evil.example":     "421",
		"":                           "421",
		"localhost:9000":             "200", // ssh -L 9000:127.0.0.1:PORT
		addr:                         "200",
		"[::1]:" + port(addr):        "200",
		"status.example.net":         "200",
		"10.0.0.1":                   "421", // not this page's address
	} {
		raw := "GET /api/status HTTP/1.1\r\n"
		if host != "" {
			raw += "Host: " + host + "\r\n"
		}
		if got := exchange(t, addr, raw+"\r\n"); !strings.HasPrefix(got, "HTTP/1.1 "+want+" ") {
			t.Errorf("Host %q: want %s, got %.80q", host, want, got)
		}
	}
	for _, c := range []struct {
		listen, host string
		ok           bool
	}{
		{"0.0.0.0:8080", "192.0.2.7:8080", true}, // every address: a literal cannot be rebound
		{"0.0.0.0:8080", "[2001:db8::1]", true},
		{"0.0.0.0:8080", "evil.example", false},
		{"[::]:8080", "evil.example", false},
		{"192.0.2.7:8080", "192.0.2.7", true},
		{"192.0.2.7:8080", "192.0.2.8", false},
		{"192.0.2.7:8080", "localhost", false},
	} {
		if got := allowedHosts(c.listen, nil).allows(c.host); got != c.ok {
			t.Errorf("listen %s, Host %s: %v, want %v", c.listen, c.host, got, c.ok)
		}
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestControlNeedsPassword: buttons on a page without a password would
// give every local user root's service control.
func TestControlNeedsPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // without the check, Serve would return nil at once
	if err := Serve(ctx, l, Config{Control: true}); err == nil || !strings.Contains(err.Error(), "control needs a password") {
		t.Errorf("control without a password: %v", err)
	}
}

// TestConnectionCap: MaxConns streams are served at once; the one past
// them is answered 503 and closed.
func TestConnectionCap(t *testing.T) {
	d := newFakeDaemon(t)
	const max = 3
	addr := startWeb(t, d, Config{MaxConns: max})
	for i := 0; i < max; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		io.WriteString(c, "GET /api/logs?name=web HTTP/1.1\r\nHost: localhost\r\n\r\n")
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			if strings.HasSuffix(strings.TrimSpace(l), "web: first line") {
				break
			}
		}
	}
	if got := exchange(t, addr, "GET /api/status HTTP/1.1\r\nHost: localhost\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 503 ") || !strings.Contains(got, "too many connections (3, the limit)") {
		t.Errorf("connection %d: %.120q", max+1, got)
	}
}

// TestHeadDeadline: a client that sends nothing, or half a head, is
// answered 408 and closed (the wait is short here; what is asserted is
// the answer, not when it came).
func TestHeadDeadline(t *testing.T) {
	d := newFakeDaemon(t)
	addr := startWeb(t, d, Config{HeadWait: 50 * time.Millisecond})
	for _, sent := range []string{"", "GET / HTTP/1.1\r\nHost: local"} {
		if got := exchange(t, addr, sent); !strings.HasPrefix(got, "HTTP/1.1 408 ") {
			t.Errorf("sent %q: %.80q", sent, got)
		}
	}
}

// TestHeadLimits: a request line of exactly maxLine bytes and exactly
// maxHeaders headers are taken; one byte or one header more is 400.
func TestHeadLimits(t *testing.T) {
	d := newFakeDaemon(t)
	addr := startWeb(t, d, Config{})
	line := func(n int) string { // a request line of n bytes, for a page that is not there
		return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1\r\n"
	}
	headers := func(n int) string {
		return "Host: localhost\r\n" + strings.Repeat("X-A: b\r\n", n-1)
	}
	for _, c := range []struct {
		name, raw, want string
	}{
		{"line at the limit", line(maxLine) + headers(1) + "\r\n", "404"},
		{"line one past", line(maxLine+1) + headers(1) + "\r\n", "400"},
		{"headers at the limit", "GET /api/status HTTP/1.1\r\n" + headers(maxHeaders) + "\r\n", "200"},
		{"headers one past", "GET /api/status HTTP/1.1\r\n" + headers(maxHeaders+1) + "\r\n", "400"},
	} {
		if got := exchange(t, addr, c.raw); !strings.HasPrefix(got, "HTTP/1.1 "+c.want+" ") {
			t.Errorf("%s: want %s, got %.80q", c.name, c.want, got)
		}
	}
}
