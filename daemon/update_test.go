package daemon

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenSource: a bundle comes from an absolute path to a regular file
// (not through a symlink, not a directory) or an http URL answering 200;
// a relative path and https are refused with the reason.
func TestOpenSource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "update.tar")
	os.WriteFile(file, []byte("bundle bytes"), 0o644)
	link := filepath.Join(dir, "link.tar")
	os.Symlink(file, link)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/update.tar" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "bundle over http")
	}))
	defer srv.Close()
	for src, want := range map[string]string{file: "bundle bytes", srv.URL + "/update.tar": "bundle over http"} {
		r, err := openSource(context.Background(), src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", src, b, err)
		}
	}
	for src, want := range map[string]string{
		"update.tar":                "want an absolute path",
		link:                        "too many levels of symbolic links",
		dir:                         "is not a regular file",
		"https://example.org/u.tar": "https is not supported",
		srv.URL + "/missing.tar":    "404",
		"ftp://example.org/u.tar":   "want http://",
	} {
		if r, err := openSource(context.Background(), src); err == nil || !strings.Contains(err.Error(), want) {
			if r != nil {
				r.Close()
			}
			t.Errorf("%s: %v, want an error with %q", src, err, want)
		}
	}
}
