package cas

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Parse reads a place: "/abs/dir" or "file:///dir" (a Dir), "http://" or
// "https://" (an HTTP cache), any other "scheme://..." (a Helper). Every
// kind can also be written to (Putter).
func Parse(s string) (Putter, error) {
	switch {
	case strings.HasPrefix(s, "/"):
		return Dir{Path: filepath.Clean(s)}, nil
	case !strings.Contains(s, "://"):
		return nil, fmt.Errorf("place %q: want an absolute directory, file://, http(s):// or another scheme://", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("place %q: %w", s, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("place %q: want file:///absolute/dir", s)
		}
		return Dir{Path: filepath.Clean(u.Path)}, nil
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("place %q: no host", s)
		}
		return HTTP{Base: strings.TrimSuffix(s, "/")}, nil
	case "":
		return nil, fmt.Errorf("place %q: no scheme", s)
	}
	return Helper{URL: s}, nil
}
