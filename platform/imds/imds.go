// Package imds reads the platform facts of a machine in a cloud from its
// instance metadata service (IMDSv2). It is its own package, apart from
// platform, so that PID 1, which imports platform, does not link net/http.
package imds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/platform"
)

// A machine in a cloud has no NoCloud seed; it has the instance metadata
// service. The fleet agent fetches it, not PID 1: the network
// is up only after PID 1 converged its config, and net/http would grow
// every image's PID 1. Only IMDSv2 (a session token first) is spoken:
// v1's plain GETs are what a server-side request forgery reaches.

// Base is the EC2 instance metadata service, as compatible clouds serve
// it too.
const Base = "http://169.254.169.254"

const (
	imdsTokenPath = "/latest/api/token"
	imdsTokenTTL  = "21600" // seconds, the longest allowed: one fetch per start
	imdsMeta      = "/latest/meta-data/"
	imdsTags      = imdsMeta + "tags/instance"
	// imdsTimeout bounds each request: the service is link-local and
	// answers in milliseconds, or is not there.
	imdsTimeout = 2 * time.Second
	// imdsMaxBody bounds every body read; more is a refused answer.
	imdsMaxBody = 64 << 10
	// imdsMaxToken bounds the session token, as a fact's value is bounded.
	imdsMaxToken = 1 << 10
	// imdsMaxTags bounds the tags fetched (EC2 allows 50 per instance).
	imdsMaxTags = 64
)

// imdsFacts are the service's own facts, named as a seed's meta-data
// names them; a tag may not take these names (nor "seed").
var imdsFacts = []struct {
	name, path string
	required   bool
}{
	{"instance_id", "instance-id", true},
	{"local_hostname", "local-hostname", false},
	{"availability_zone", "placement/availability-zone", false},
}

// errNotFound is a 404: a path this instance does not have.
var errNotFound = errors.New("not found")

// Client is the client Fetch uses when given none: never through a
// proxy (HTTP_PROXY would hand the token to it), no redirects (the token
// header would follow to wherever they point), no compression, short
// timeouts and bounded headers.
func Client() *http.Client {
	return &http.Client{
		Timeout: imdsTimeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            (&net.Dialer{Timeout: imdsTimeout}).DialContext,
			ResponseHeaderTimeout:  imdsTimeout,
			MaxResponseHeaderBytes: 16 << 10,
			DisableCompression:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Fetch reads the instance metadata service at base (Base) into
// platform facts named as a seed's: instance_id (required: without it
// this is no metadata service), local_hostname, availability_zone, and
// each instance tag as its name lower-cased with - and . made _. A tag
// whose name is not then a fact name (config.IsName), takes one of the
// service's names, or collides with another tag, or whose value is not
// one line of at most 1 KiB of printable UTF-8, is skipped; the tags are
// there only if the instance allows tags in metadata (a 404 is none). A
// bad value of the service's own facts, a body over 64 KiB or more than
// 64 tags is an error: nothing from such a service is taken. seed is
// "imds". client nil is Client().
func Fetch(ctx context.Context, base string, client *http.Client) (map[string]string, error) {
	if client == nil {
		client = Client()
		defer client.CloseIdleConnections()
	}
	s := &imdsSession{base: strings.TrimRight(base, "/"), client: client}
	if err := s.login(ctx); err != nil {
		return nil, err
	}
	facts := map[string]string{"seed": "imds"}
	for _, f := range imdsFacts {
		b, err := s.get(ctx, imdsMeta+f.path)
		if errors.Is(err, errNotFound) && !f.required {
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := factValue(b)
		if err != nil {
			return nil, fmt.Errorf("imds %s: %w", f.path, err)
		}
		facts[f.name] = v
	}
	if err := s.tags(ctx, facts); err != nil {
		return nil, err
	}
	return facts, nil
}

// imdsSession is one fetch: the token of its PUT on every GET.
type imdsSession struct {
	base   string
	client *http.Client
	token  string
}

// login gets the session token.
func (s *imdsSession) login(ctx context.Context) error {
	b, err := s.do(ctx, http.MethodPut, imdsTokenPath, "X-aws-ec2-metadata-token-ttl-seconds", imdsTokenTTL)
	if err != nil {
		return err
	}
	// It goes back in a header: visible ASCII only, and short.
	if len(b) == 0 || len(b) > imdsMaxToken || strings.IndexFunc(string(b), func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return fmt.Errorf("imds token: %d bytes, not a token", len(b))
	}
	s.token = string(b)
	return nil
}

// get reads a metadata path with the session's token.
func (s *imdsSession) get(ctx context.Context, path string) ([]byte, error) {
	return s.do(ctx, http.MethodGet, path, "X-aws-ec2-metadata-token", s.token)
}

// do makes one bounded request: its own timeout, at most imdsMaxBody
// read, a status other than 200 an error (errNotFound for 404).
func (s *imdsSession) do(ctx context.Context, method, path, header, value string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, imdsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("imds %s %s: %w", method, path, err)
	}
	req.Header.Set(header, value)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("imds %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("imds %s %s: %w", method, path, errNotFound)
	case resp.StatusCode != http.StatusOK:
		// The code only: the reason phrase is the server's text.
		return nil, fmt.Errorf("imds %s %s: status %d", method, path, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, imdsMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("imds %s %s: %w", method, path, err)
	}
	if len(b) > imdsMaxBody {
		return nil, fmt.Errorf("imds %s %s: more than %d KiB", method, path, imdsMaxBody>>10)
	}
	return b, nil
}

// tags adds the instance's tags to facts, in the order of their fact
// names (the listing's order is the server's).
func (s *imdsSession) tags(ctx context.Context, facts map[string]string) error {
	b, err := s.get(ctx, imdsTags)
	if errors.Is(err, errNotFound) {
		return nil // tags not allowed in metadata: none
	}
	if err != nil {
		return err
	}
	names := tagNames(strings.Split(string(b), "\n"))
	if len(names) > imdsMaxTags {
		return fmt.Errorf("imds tags: %d; at most %d read", len(names), imdsMaxTags)
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, err := s.get(ctx, imdsTags+"/"+url.PathEscape(names[k]))
		if errors.Is(err, errNotFound) {
			continue // removed since the listing
		}
		if err != nil {
			return err
		}
		if v, err := factValue(b); err == nil {
			facts[k] = v
		}
	}
	return nil
}

// tagNames maps fact names to the tag names they come from. A tag is
// taken only if its name, with - and . made _, is a fact name (so ASCII
// letters, digits, -, _ and . only), not all dots (a path's . and ..),
// and neither the service's own (instance_id, seed, ...) nor another
// tag's once lower-cased (Role and role: which? neither).
func tagNames(lines []string) map[string]string {
	names := map[string]string{}
	clash := map[string]bool{"seed": true}
	for _, f := range imdsFacts {
		clash[f.name] = true
	}
	for _, tag := range lines {
		if tag == "" || strings.Trim(tag, ".") == "" {
			continue
		}
		k := strings.NewReplacer("-", "_", ".", "_").Replace(tag)
		if !config.IsName(k) {
			continue
		}
		k = strings.ToLower(k)
		if clash[k] {
			continue
		}
		if prev, ok := names[k]; ok && prev != tag {
			delete(names, k)
			clash[k] = true
			continue
		}
		names[k] = tag
	}
	return names
}

// factValue is a body as a fact's value (platform.CheckValue), a
// trailing newline dropped.
func factValue(b []byte) (string, error) {
	v := strings.TrimSuffix(string(b), "\n")
	return v, platform.CheckValue(v)
}
