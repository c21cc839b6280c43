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

// runHTTP sends a GET (HTTP/1.0: the answer ends with the connection, no
// chunks to undo, though a chunked one is read too) and judges status,
// body and JSON fields.
func runHTTP(ctx context.Context, s Spec) error {
	u, err := ParseHTTP(s.HTTP)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	path := u.RequestURI()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: unit-probe\r\nAccept: */*\r\n\r\n", path, u.Host); err != nil {
		return err
	}
	status, reason, body, err := readResponse(bufio.NewReader(c))
	if err != nil {
		return err
	}
	want := s.Status
	if want == 0 {
		want = 200
	}
	if status != want {
		return fmt.Errorf("expected status %d, got %d %s", want, status, reason)
	}
	if s.Body != nil && !s.Body.Match(body) {
		return fmt.Errorf("expected body ~ %q, got %s", s.Body.String(), excerpt(body))
	}
	if len(s.JSON) > 0 {
		return checkJSON(body, s.JSON)
	}
	return nil
}

// readResponse reads a status line, headers and a body of at most
// maxAnswer bytes.
func readResponse(r *bufio.Reader) (status int, reason string, body []byte, err error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, "", nil, fmt.Errorf("no answer: %w", err)
	}
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0, "", nil, fmt.Errorf("not an HTTP answer: %s", excerpt([]byte(line)))
	}
	if status, err = strconv.Atoi(f[1]); err != nil {
		return 0, "", nil, fmt.Errorf("bad status line %q", strings.TrimSpace(line))
	}
	if len(f) == 3 {
		reason = f[2]
	}
	chunked := false
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return 0, "", nil, fmt.Errorf("headers: %w", err)
		}
		h = strings.TrimSpace(h)
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(k), "Transfer-Encoding") && strings.Contains(strings.ToLower(v), "chunked") {
			chunked = true
		}
	}
	if chunked {
		body, err = readChunked(r)
	} else {
		body, err = io.ReadAll(io.LimitReader(r, maxAnswer))
	}
	if err != nil {
		return 0, "", nil, fmt.Errorf("body: %w", err)
	}
	return status, reason, body, nil
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(size, 16, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad chunk size %q", size)
		}
		if n == 0 {
			return body, nil
		}
		if int64(len(body))+n > maxAnswer {
			return nil, errors.New("answer too long")
		}
		chunk := make([]byte, n+2) // and its CRLF
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, err
		}
		body = append(body, chunk[:n]...)
	}
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
