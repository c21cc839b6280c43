package cas

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Bounds of one HTTP request, so a stalled or endless server cannot hold
// a build: the whole exchange, and the bytes of one blob.
const (
	DefaultTimeout = 10 * time.Minute
	DefaultMaxSize = 4 << 30
)

// HTTP is a cache served over HTTP(S): GET Base/<sha256> reads a blob
// (404: not there), PUT Base/<sha256> writes one. A static file server
// over a Dir is a read-only HTTP cache.
type HTTP struct {
	Base    string        // http:// or https://, no trailing slash needed
	Timeout time.Duration // per request; default DefaultTimeout
	MaxSize int64         // per blob; default DefaultMaxSize
	Client  *http.Client  // default: a client without a global timeout
}

func (h HTTP) String() string { return strings.TrimSuffix(h.Base, "/") }

func (h HTTP) url(sum string) string { return strings.TrimSuffix(h.Base, "/") + "/" + sum }

// Get fetches Base/sum.
func (h HTTP) Get(ctx context.Context, sum string, w io.Writer) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	return httpGet(ctx, h.Client, h.url(sum), h.Timeout, h.MaxSize, w)
}

// Has asks with a HEAD request.
func (h HTTP) Has(ctx context.Context, sum string) (bool, error) {
	if err := checkSum(sum); err != nil {
		return false, err
	}
	return httpHas(ctx, h.Client, h.url(sum), h.Timeout)
}

// Put uploads the blob with PUT; any 2xx answer is success.
func (h HTTP) Put(ctx context.Context, sum string, r io.Reader, size int64) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(h.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.url(sum), r)
	if err != nil {
		return err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client(h.Client).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %s", req.URL, resp.Status)
	}
	return nil
}

// URL is one fixed address that should serve a blob: a file in a Debian
// mirror or snapshot archive. The name asked for is not part of the URL;
// Fetch checks the bytes against it all the same.
type URL struct {
	URL     string
	Label   string // the name in messages; default the URL
	Timeout time.Duration
	MaxSize int64
	Client  *http.Client
}

func (u URL) String() string {
	if u.Label != "" {
		return u.Label + " " + u.URL
	}
	return u.URL
}

// Get fetches the URL.
func (u URL) Get(ctx context.Context, _ string, w io.Writer) error {
	return httpGet(ctx, u.Client, u.URL, u.Timeout, u.MaxSize, w)
}

// Has asks with a HEAD request.
func (u URL) Has(ctx context.Context, _ string) (bool, error) {
	return httpHas(ctx, u.Client, u.URL, u.Timeout)
}

func httpGet(ctx context.Context, c *http.Client, url string, timeout time.Duration, max int64, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, orDefault(timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client(c).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return NotFound(fmt.Sprint(resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET: %s", resp.Status)
	}
	if max <= 0 {
		max = DefaultMaxSize
	}
	if resp.ContentLength > max {
		return fmt.Errorf("GET: %d bytes, more than the %d allowed", resp.ContentLength, max)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, max+1))
	if err != nil {
		return fmt.Errorf("GET: %w", err)
	}
	if n > max {
		return fmt.Errorf("GET: more than the %d bytes allowed", max)
	}
	return nil
}

func httpHas(ctx context.Context, c *http.Client, url string, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, min(orDefault(timeout, DefaultTimeout), time.Minute))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client(c).Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return true, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return false, nil
	}
	return false, fmt.Errorf("HEAD %s: %s", url, resp.Status)
}

func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return http.DefaultClient
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
