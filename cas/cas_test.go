package cas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func sumOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// blobServer is an HTTP cache over a map: GET, HEAD, PUT; a blob listed
// in wrong is answered with other bytes, one in slow is never answered.
type blobServer struct {
	mu    sync.Mutex
	blobs map[string][]byte
	wrong map[string]bool
	slow  map[string]bool
}

func newBlobServer(t *testing.T) (*blobServer, *httptest.Server) {
	s := &blobServer{blobs: map[string][]byte{}, wrong: map[string]bool{}, slow: map[string]bool{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *blobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sum := filepath.Base(r.URL.Path)
	s.mu.Lock()
	b, ok := s.blobs[sum]
	wrong, slow := s.wrong[sum], s.slow[sum]
	s.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s.mu.Lock()
		s.blobs[sum] = data
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet, http.MethodHead:
		if slow {
			<-r.Context().Done()
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if wrong {
			b = []byte("not the blob you asked for")
		}
		w.Write(b)
	}
}

func TestDir(t *testing.T) {
	ctx := t.Context()
	d := Dir{Path: filepath.Join(t.TempDir(), "c")}
	blob := []byte("hello blob")
	sum := sumOf(blob)
	if err := d.Get(ctx, sum, io.Discard); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get from empty dir: %v, want ErrNotFound", err)
	}
	if err := d.Put(ctx, sum, bytes.NewReader(blob), int64(len(blob))); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := d.Get(ctx, sum, &got); err != nil || got.String() != string(blob) {
		t.Fatalf("get: %q, %v", got.String(), err)
	}
	if ok, err := d.Has(ctx, sum); !ok || err != nil {
		t.Fatalf("has: %v %v", ok, err)
	}
	// Bytes that do not match their name are refused and leave nothing.
	other := sumOf([]byte("other"))
	if err := d.Put(ctx, other, bytes.NewReader(blob), int64(len(blob))); err == nil {
		t.Fatal("put of a wrong blob succeeded")
	}
	es, _ := os.ReadDir(d.Path)
	if len(es) != 1 || es[0].Name() != sum {
		t.Fatalf("dir holds %v, want only %s", es, sum)
	}
	if err := d.Get(ctx, "../../etc/passwd", io.Discard); err == nil {
		t.Fatal("a name that is not a sha256 was accepted")
	}
}

func TestHTTP(t *testing.T) {
	ctx := t.Context()
	s, srv := newBlobServer(t)
	h := HTTP{Base: srv.URL + "/unit/"}
	blob := []byte("over http")
	sum := sumOf(blob)
	err := h.Get(ctx, sum, io.Discard)
	if !errors.Is(err, ErrNotFound) || err.Error() != "404" {
		t.Fatalf("get missing: %v, want ErrNotFound (404)", err)
	}
	if ok, err := h.Has(ctx, sum); ok || err != nil {
		t.Fatalf("has missing: %v %v", ok, err)
	}
	if err := h.Put(ctx, sum, bytes.NewReader(blob), int64(len(blob))); err != nil {
		t.Fatal(err)
	}
	if string(s.blobs[sum]) != string(blob) {
		t.Fatalf("server got %q", s.blobs[sum])
	}
	var got bytes.Buffer
	if err := h.Get(ctx, sum, &got); err != nil || got.String() != string(blob) {
		t.Fatalf("get: %q %v", got.String(), err)
	}
	if ok, err := h.Has(ctx, sum); !ok || err != nil {
		t.Fatalf("has: %v %v", ok, err)
	}
	// A blob larger than allowed is refused.
	small := h
	small.MaxSize = 3
	if err := small.Get(ctx, sum, io.Discard); err == nil || !strings.Contains(err.Error(), "allowed") {
		t.Fatalf("oversized blob: %v", err)
	}
	// A server that never answers is given up on.
	s.slow[sum] = true
	quick := h
	quick.Timeout = 50 * time.Millisecond
	if err := quick.Get(ctx, sum, io.Discard); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("stalled server: %v, want a timeout", err)
	}
}

// fakeHelper is a unit-fleet that serves a directory: get cats the blob
// (exit 3 when absent), put writes stdin to it.
func fakeHelper(t *testing.T, dir string) string {
	p := filepath.Join(t.TempDir(), "unit-fleet")
	script := `#!/bin/sh
[ "$1" = content ] || exit 2
case "$2" in
get) [ -f "` + dir + `/$4" ] || exit 3; exec cat "` + dir + `/$4" ;;
put) exec cat > "` + dir + `/$4" ;;
esac
echo "bad verb $2" >&2; exit 2
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelper(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	h := Helper{URL: "nats://fleet.example/unit-content", Program: fakeHelper(t, dir)}
	blob := []byte("through the helper")
	sum := sumOf(blob)
	if err := h.Get(ctx, sum, io.Discard); err != ErrNotFound {
		t.Fatalf("get missing: %v, want ErrNotFound (exit 3)", err)
	}
	if err := h.Put(ctx, sum, bytes.NewReader(blob), int64(len(blob))); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := h.Get(ctx, sum, &got); err != nil || got.String() != string(blob) {
		t.Fatalf("get: %q %v", got.String(), err)
	}
	// Without a program found, the error names the one wanted.
	t.Setenv("PATH", t.TempDir())
	err := Helper{URL: "nats://x/y"}.Get(ctx, sum, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no unit-fleet") {
		t.Fatalf("missing helper: %v", err)
	}
}

func TestFetch(t *testing.T) {
	ctx := t.Context()
	blob := []byte("the pinned deb")
	sum := sumOf(blob)
	empty := Dir{Path: t.TempDir(), Label: "download cache"}
	_, srv404 := newBlobServer(t)
	swrong, srvWrong := newBlobServer(t)
	swrong.blobs[sum], swrong.wrong[sum] = blob, true
	good := Dir{Path: t.TempDir()}
	if err := good.Put(ctx, sum, bytes.NewReader(blob), -1); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), sum)
	srcs := []Source{empty, HTTP{Base: srv404.URL}, HTTP{Base: srvWrong.URL}, good}
	from, err := Fetch(ctx, srcs, sum, dst)
	if err != nil || from != good {
		t.Fatalf("fetch: from %v, %v", from, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != string(blob) {
		t.Fatalf("dst holds %q", b)
	}
	// All fail: the error names every place, with why, in order; dst's
	// directory keeps no temp file.
	dst2 := filepath.Join(t.TempDir(), sum)
	_, err = Fetch(ctx, srcs[:3], sum, dst2)
	var fe *FetchError
	if !errors.As(err, &fe) || len(fe.Tried) != 3 {
		t.Fatalf("all failed: %v", err)
	}
	want := "not found in: download cache " + empty.Path + "; " + srv404.URL + " (404); " + srvWrong.URL + " (sha256 mismatch: got " + sumOf([]byte("not the blob you asked for")) + ")"
	if err.Error() != want {
		t.Fatalf("error\n%s\nwant\n%s", err, want)
	}
	if es, _ := os.ReadDir(filepath.Dir(dst2)); len(es) != 0 {
		t.Fatalf("failed fetch left %v", es)
	}
	if !Has(ctx, srcs, sum) || Has(ctx, srcs[:2], sum) {
		t.Fatal("Has: wrong answer")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/c":                   "dir /srv/c",
		"file:///srv/c/":           "dir /srv/c",
		"https://c.example/unit/":  "https://c.example/unit",
		"nats://fleet:4222/bucket": "nats://fleet:4222/bucket",
	} {
		p, err := Parse(in)
		if err != nil || p.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"relative/dir", "file://host/x", "http:///nohost", ""} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
