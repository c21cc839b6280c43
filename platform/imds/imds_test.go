package imds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeIMDS serves metadata as IMDSv2 in required mode does: the token
// only to a PUT that asks for a TTL, and a GET without that token
// refused (401), so a client that skips the token gets nothing.
type fakeIMDS struct {
	token   string
	paths   map[string]string // under /latest/meta-data/; missing: 404
	refused atomic.Int64      // GETs without the token
	gets    atomic.Int64
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "21600" {
			http.Error(w, "", http.StatusBadRequest)
			return
		}
		io.WriteString(w, f.token)
		return
	}
	f.gets.Add(1)
	if r.Method != http.MethodGet || r.Header.Get("X-aws-ec2-metadata-token") != f.token {
		f.refused.Add(1)
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	body, ok := f.paths[strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	io.WriteString(w, body)
}

func serveIMDS(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// instance is a plain instance's metadata, tags not allowed.
func instance() map[string]string {
	return map[string]string{
		"instance-id":                 "i-0abc123",
		"local-hostname":              "ip-10-0-0-1.eu-west-1.compute.internal",
		"placement/availability-zone": "eu-west-1a",
	}
}

func imdsNow(t *testing.T, base string) (map[string]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Fetch(ctx, base, nil)
}

// TestIMDS: the facts and the tags, named as a seed's; tags whose names
// or values are not fit for a fact are skipped, never half taken.
func TestIMDS(t *testing.T) {
	f := &fakeIMDS{token: "AQAEAFy0_session-token==", paths: instance()}
	tags := map[string]string{
		"Name":                         "web-1",
		"Role":                         "web\n", // a trailing newline dropped
		"kubernetes.io-cluster":        "owned",
		"Unicode":                      "café ☕",
		"Empty":                        "",
		"aws:cloudformation:stack-id":  "x", // : is no fact name
		"bad tag":                      "x",
		"\u212aey":                     "x", // Kelvin sign: lower-cases to "key"
		"instance-id":                  "forged",
		"Seed":                         "nocloud",
		"Team":                         "a", // Team and team: neither
		"team":                         "b",
		"Newline":                      "a\nb",
		"Escape":                       "\x1b[2J",
		"Separator":                    "a\u2028b",
		"Invalid":                      "\xff",
		"Long":                         strings.Repeat("x", 1025),
		"..":                           "x",
		strings.Repeat("n", 65):        "x",
		"local-hostname":               "forged", // the service's, even when it has none
		"availability-zone":            "forged",
		"Gone":                         "", // listed, then 404
		"x/../../../instance-id":       "x",
		"role\r":                       "x",
		"Role.Prod":                    "yes",
		"a-b":                          "1",
		"a.b":                          "2", // a_b twice: neither
		"with space":                   "x",
		"Tab\tname":                    "x",
		"LongValueButFine":             strings.Repeat("y", 1024),
		"Quote\"":                      "x",
		"percent%2F":                   "x",
		"UPPER_and-lower.Mixed-123":    "ok",
		"zz":                           "last",
		"_underscore":                  "u",
		"-dash":                        "d",
		"dot.":                         "d2",
		"Role2":                        "two",
		"Sneaky\u0000":                 "x",
		"instance_id":                  "forged",
		"SEED":                         "forged",
		"Availability_Zone":            "forged",
		"local.hostname":               "forged",
		"aws:autoscaling:groupName":    "asg",
		"x":                            "\u202e", // a bidi override is a format, not a control, character: kept
		"ctrl":                         "a\u0085b",
		"del":                          "a\x7fb",
		"cr":                           "a\rb",
		"nul":                          "a\x00b",
		"trailing-crlf":                "v\r\n",
		"two-newlines":                 "v\n\n",
		"just-newline":                 "\n",
		"very-long-but-trimmed-to-max": strings.Repeat("z", 1024) + "\n",
	}
	var list []string
	for name, v := range tags {
		list = append(list, name)
		if name != "Gone" {
			f.paths["tags/instance/"+name] = v
		}
	}
	f.paths["tags/instance"] = strings.Join(list, "\n") + "\n"
	got, err := imdsNow(t, serveIMDS(t, f))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"seed":                         "imds",
		"instance_id":                  "i-0abc123",
		"local_hostname":               "ip-10-0-0-1.eu-west-1.compute.internal",
		"availability_zone":            "eu-west-1a",
		"name":                         "web-1",
		"role":                         "web",
		"kubernetes_io_cluster":        "owned",
		"unicode":                      "café ☕",
		"empty":                        "",
		"role_prod":                    "yes",
		"longvaluebutfine":             strings.Repeat("y", 1024),
		"upper_and_lower_mixed_123":    "ok",
		"zz":                           "last",
		"_underscore":                  "u",
		"_dash":                        "d",
		"dot_":                         "d2",
		"role2":                        "two",
		"x":                            "\u202e",
		"just_newline":                 "",
		"very_long_but_trimmed_to_max": strings.Repeat("z", 1024),
	}
	if !reflect.DeepEqual(got, want) {
		for k := range maps.Keys(got) {
			if got[k] != want[k] {
				t.Errorf("%s: got %.40q, want %.40q", k, got[k], want[k])
			}
		}
		for k := range maps.Keys(want) {
			if _, ok := got[k]; !ok {
				t.Errorf("%s: missing", k)
			}
		}
	}
	if n := f.refused.Load(); n > 0 {
		t.Errorf("%d GETs without the session token", n)
	}
}

// TestIMDSNoTags: an instance that does not allow tags in metadata (a
// 404 for the list) and has no hostname still has its facts; one with no
// instance-id is no metadata service.
func TestIMDSNoTags(t *testing.T) {
	p := instance()
	delete(p, "local-hostname")
	got, err := imdsNow(t, serveIMDS(t, &fakeIMDS{token: "t", paths: p}))
	want := map[string]string{"seed": "imds", "instance_id": "i-0abc123", "availability_zone": "eu-west-1a"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	delete(p, "instance-id")
	if got, err := imdsNow(t, serveIMDS(t, &fakeIMDS{token: "t", paths: p})); err == nil || !strings.Contains(err.Error(), "instance-id") {
		t.Errorf("no instance-id: %v, %v", got, err)
	}
}

// TestIMDSToken: no session token, no facts, and no IMDSv1 fallback; a
// token that is not one (it goes back in a header) is refused.
func TestIMDSToken(t *testing.T) {
	f := &fakeIMDS{token: "t", paths: instance()}
	disabled := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/latest/api/token" {
			http.Error(w, "", http.StatusForbidden)
			return
		}
		f.ServeHTTP(w, r)
	})
	if got, err := imdsNow(t, serveIMDS(t, disabled)); err == nil || !strings.Contains(err.Error(), "status 403") {
		t.Errorf("token refused: %v, %v", got, err)
	}
	if n := f.gets.Load(); n > 0 {
		t.Errorf("%d GETs without a token (IMDSv1)", n)
	}
	for _, bad := range []string{"", "tok\r\nX-Injected: 1", "tok en", strings.Repeat("t", 1025), "tök"} {
		f := &fakeIMDS{token: bad, paths: instance()}
		if got, err := imdsNow(t, serveIMDS(t, f)); err == nil || !strings.Contains(err.Error(), "not a token") {
			t.Errorf("token %.20q: %v, %v", bad, got, err)
		}
	}
}

// TestIMDSRefuses: a service that answers too much, or what is no value
// of its own facts, gives nothing.
func TestIMDSRefuses(t *testing.T) {
	many := make([]string, imdsMaxTags+1)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	for what, c := range map[string]struct {
		path, body, err string
	}{
		"instance-id over 64 KiB": {"instance-id", strings.Repeat("i", 64<<10+1), "more than 64 KiB"},
		"tag list over 64 KiB":    {"tags/instance", strings.Repeat("t\n", 32<<10+1), "more than 64 KiB"},
		"a tag over 64 KiB":       {"tags/instance/big", strings.Repeat("v", 64<<10+1), "more than 64 KiB"},
		"two-line instance-id":    {"instance-id", "i-1\ni-2", "control character"},
		"escape in hostname":      {"local-hostname", "h\x1b]0;owned\x07", "control character"},
		"long zone":               {"placement/availability-zone", strings.Repeat("z", 1025), "at most 1024"},
		"too many tags":           {"tags/instance", strings.Join(many, "\n"), "65; at most 64"},
	} {
		p := instance()
		p["tags/instance"] = "big"
		p[c.path] = c.body
		if got, err := imdsNow(t, serveIMDS(t, &fakeIMDS{token: "t", paths: p})); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, %v", what, got, err)
		}
	}

	// A status other than 200 and 404 is an error, without the server's text.
	p := instance()
	p["local-hostname"] = "h"
	f := &fakeIMDS{token: "t", paths: p}
	broken := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/local-hostname") {
			http.Error(w, "\x1b[2Jboom", http.StatusInternalServerError)
			return
		}
		f.ServeHTTP(w, r)
	})
	if _, err := imdsNow(t, serveIMDS(t, broken)); err == nil || !strings.Contains(err.Error(), "status 500") || strings.Contains(err.Error(), "boom") {
		t.Errorf("500: %v", err)
	}

	// A redirect is not followed: the token header would go along.
	var hits atomic.Int64
	elsewhere := serveIMDS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/instance-id") {
			http.Redirect(w, r, elsewhere+r.URL.Path, http.StatusFound)
			return
		}
		f.ServeHTTP(w, r)
	})
	if _, err := imdsNow(t, serveIMDS(t, redirect)); err == nil || !strings.Contains(err.Error(), "status 302") {
		t.Errorf("redirect: %v", err)
	}
	if n := hits.Load(); n > 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestIMDSHangs: a service that stops answering, before its headers or
// in the middle of a body, is given up on at the caller's deadline.
func TestIMDSHangs(t *testing.T) {
	release := make(chan struct{})
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	f := &fakeIMDS{token: "t", paths: instance()}
	before := serveIMDS(t, http.HandlerFunc(hang))
	midBody := serveIMDS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/instance-id") {
			f.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "i-")
		w.(http.Flusher).Flush()
		hang(w, r)
	}))
	t.Cleanup(func() { close(release) }) // before the servers close
	for what, base := range map[string]string{"before headers": before, "mid-body": midBody} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		got, err := Fetch(ctx, base, nil)
		took := time.Since(start)
		cancel()
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, %v", what, got, err)
		}
		// The caller's deadline, not the per-request bound, ended it.
		if took >= imdsTimeout {
			t.Errorf("%s: gave up after %v", what, took)
		}
	}
}
