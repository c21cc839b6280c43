// Package web is unit's status page: a small read-only web view of one
// machine (services, live logs, the last convergence report, events,
// the release), with restart/stop/start buttons when allowed. It runs as
// `unit web`, a supervised service that talks to the control socket like
// any client, so nothing it does runs in PID 1. It speaks just enough
// HTTP/1.1 itself (GET and POST, no bodies, one request per connection,
// bounded everywhere): net/http and its TLS would be a third of every
// image's binary.
package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Limits on what a client may send: the request line and headers are all
// there is (no bodies are taken).
const (
	maxLine    = 8 << 10
	maxHeaders = 64
	headWait   = 10 * time.Second
)

// request is one parsed request.
type request struct {
	method string
	path   string
	query  url.Values
	header map[string]string // lower-case names
}

var errTooLong = errors.New("request too long")

// readRequest reads a request line and its headers. Anything unusual is
// an error: the connection is answered 400 and closed.
func readRequest(r *bufio.Reader) (*request, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	f := strings.Split(line, " ")
	if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/1.") {
		return nil, fmt.Errorf("bad request line %q", line)
	}
	if f[0] != "GET" && f[0] != "POST" && f[0] != "HEAD" {
		return nil, fmt.Errorf("method %q", f[0])
	}
	u, err := url.ParseRequestURI(f[1])
	if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return nil, fmt.Errorf("bad target %q", f[1])
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("bad query: %w", err)
	}
	req := &request{method: f[0], path: u.Path, query: q, header: map[string]string{}}
	for n := 0; ; n++ {
		h, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if h == "" {
			break
		}
		if n >= maxHeaders {
			return nil, errTooLong
		}
		k, v, ok := strings.Cut(h, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("bad header %q", h)
		}
		req.header[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	if cl := req.header["content-length"]; cl != "" && cl != "0" {
		return nil, errors.New("request bodies are not taken")
	}
	if req.header["transfer-encoding"] != "" {
		return nil, errors.New("request bodies are not taken")
	}
	return req, nil
}

// readLine reads one CRLF (or LF) terminated line of at most maxLine bytes.
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", errTooLong
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// respond writes a whole answer and ends the exchange.
func respond(w io.Writer, status int, ctype string, body []byte, extra ...string) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n", status, statusText(status), ctype, len(body))
	writeCommonHeaders(w, extra)
	w.Write(body)
}

// writeCommonHeaders ends the header block: no caching, no framing by
// other sites, no guessing of content types, scripts only from here.
func writeCommonHeaders(w io.Writer, extra []string) {
	fmt.Fprint(w, "Cache-Control: no-store\r\nX-Frame-Options: DENY\r\nX-Content-Type-Options: nosniff\r\n"+
		"Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'\r\nReferrer-Policy: no-referrer\r\n")
	for _, h := range extra {
		fmt.Fprint(w, h+"\r\n")
	}
	fmt.Fprint(w, "\r\n")
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 421:
		return "Misdirected Request"
	case 503:
		return "Service Unavailable"
	case 502:
		return "Bad Gateway"
	}
	return "Status"
}

// readHead reads a request's head, within wait.
func readHead(c net.Conn, wait time.Duration) (*request, error) {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	req, err := readRequest(bufio.NewReaderSize(c, 4096))
	_ = c.SetReadDeadline(time.Time{})
	return req, err
}
