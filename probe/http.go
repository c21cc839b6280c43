package probe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ParseHTTP checks an http probe's URL: http only (no TLS in PID 1's
// binary yet), a host, a port or 80.
func ParseHTTP(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("want http://HOST[:PORT]/PATH, got %q", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil, fmt.Errorf("https is not supported by probes yet; use http://")
	case u.Scheme != "http":
		return nil, fmt.Errorf("want http://HOST[:PORT]/PATH, got %q", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("no host in %q", raw)
	case u.User != nil:
		return nil, fmt.Errorf("credentials in the URL are not supported")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
	}
	return u, nil
}

// runHTTP sends a GET and judges status, body and JSON fields.
func runHTTP(ctx context.Context, s Spec) error {
	resp, err := Get(ctx, s.HTTP)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	want := s.Status
	if want == 0 {
		want = 200
	}
	switch {
	case s.AnySuccess && (resp.Status < 200 || resp.Status > 399):
		return fmt.Errorf("expected a 2xx or 3xx status, got %d %s", resp.Status, resp.Reason)
	case !s.AnySuccess && resp.Status != want:
		return fmt.Errorf("expected status %d, got %d %s", want, resp.Status, resp.Reason)
	}
	if s.Body != nil && !s.Body.Match(body) {
		return fmt.Errorf("expected body ~ %q, got %s", s.Body.String(), excerpt(body))
	}
	if len(s.JSON) > 0 {
		return checkJSON(body, s.JSON)
	}
	return nil
}

// Response is an HTTP answer whose body is read as it arrives.
type Response struct {
	Status int
	Reason string
	// Length is the Content-Length, -1 when the answer did not say.
	Length int64
	// Body ends with the answer: at its length (shorter is
	// io.ErrUnexpectedEOF), its last chunk, or the connection's end.
	Body io.ReadCloser
}

// Get sends a GET for raw (ParseHTTP's rules) as HTTP/1.0, so the answer
// ends with the connection or has a length (a chunked one is read too).
// PID 1 carries no HTTP library: net/http and its TLS are a third of a
// binary that is every image's /init. ctx bounds the dial and, when it
// has a deadline, the whole answer; ending ctx ends a body being read.
func Get(ctx context.Context, raw string) (*Response, error) {
	u, err := ParseHTTP(raw)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	closeAll := func() error { stop(); return c.Close() }
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: unit\r\nAccept: */*\r\n\r\n", u.RequestURI(), u.Host); err != nil {
		closeAll()
		return nil, err
	}
	resp, err := readHead(bufio.NewReader(c))
	if err != nil {
		closeAll()
		return nil, err
	}
	resp.Body = readCloser{resp.Body, closeAll}
	return resp, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// readHead reads a status line and headers; Body reads what follows.
func readHead(r *bufio.Reader) (*Response, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("no answer: %w", err)
	}
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return nil, fmt.Errorf("not an HTTP answer: %s", excerpt([]byte(line)))
	}
	resp := &Response{Length: -1}
	if resp.Status, err = strconv.Atoi(f[1]); err != nil {
		return nil, fmt.Errorf("bad status line %q", strings.TrimSpace(line))
	}
	if len(f) == 3 {
		resp.Reason = f[2]
	}
	chunked := false
	for n := 0; ; n++ {
		h, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("headers: %w", err)
		}
		if n > 100 {
			return nil, errors.New("headers: more than 100 lines")
		}
		h = strings.TrimSpace(h)
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Transfer-Encoding") && strings.Contains(strings.ToLower(v), "chunked"):
			chunked = true
		case strings.EqualFold(k, "Content-Length"):
			if resp.Length, err = strconv.ParseInt(v, 10, 64); err != nil || resp.Length < 0 {
				return nil, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	switch {
	case chunked:
		resp.Length = -1
		resp.Body = io.NopCloser(&chunkedReader{r: r})
	case resp.Length >= 0:
		resp.Body = io.NopCloser(&exactReader{r: r, left: resp.Length})
	default:
		resp.Body = io.NopCloser(r)
	}
	return resp, nil
}

// exactReader reads n bytes: fewer is io.ErrUnexpectedEOF.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(b []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n, err := e.r.Read(b[:min(int64(len(b)), e.left)])
	e.left -= int64(n)
	if errors.Is(err, io.EOF) && e.left > 0 {
		return n, io.ErrUnexpectedEOF
	}
	if e.left == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// chunkedReader undoes chunked transfer coding as the body is read.
type chunkedReader struct {
	r    *bufio.Reader
	left int64 // of the current chunk
	done bool
}

func (c *chunkedReader) Read(b []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, unexpected(err)
		}
		size, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad chunk size %q", size)
		}
		if n == 0 {
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	n, err := c.r.Read(b[:min(int64(len(b)), c.left)])
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		var crlf [2]byte
		_, err = io.ReadFull(c.r, crlf[:])
	}
	return n, unexpected(err)
}

// unexpected is an end of the stream inside a chunk.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// checkJSON wants each path (fields and array indexes joined by dots:
// "db.replicas.0.state") to hold the value wanted, compared as text.
func checkJSON(body []byte, want map[string]string) error {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("expected a JSON body, got %s", excerpt(body))
	}
	for _, path := range sortedKeys(want) {
		got, ok := jsonAt(doc, path)
		if !ok {
			return fmt.Errorf("expected json %s = %q, got no such field", path, want[path])
		}
		if text := jsonText(got); text != want[path] {
			return fmt.Errorf("expected json %s = %q, got %q", path, want[path], text)
		}
	}
	return nil
}

func jsonAt(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[part]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// jsonText renders a JSON value as the TOML side writes it: strings bare,
// numbers without a needless ".0", true/false, null.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
