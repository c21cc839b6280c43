package supervise

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// Ready and health are read by config's parser (config.ParseReady,
// ParseHealth). Load rejects a bad spec; one that gets here anyway is an
// error naming config's expectation, a failed start or check, not a panic.
func TestSpecParseErrors(t *testing.T) {
	s := New(testReaper)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for spec, want := range map[string]string{
		"udp:53":  `health = "udp:53": expected http:PORT/PATH, tcp:PORT, exec:CMD or check:NAME`,
		"check:":  `health = "check:": expected check:NAME`,
		"tcp:0":   `health = "tcp:0": expected a port in 1..65535`,
		"started": `health = "started": expected http:PORT/PATH`,
	} {
		if err := s.checkHealth(ctx, spec, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("health %q: got %v, want %q", spec, err, want)
		}
	}
	for spec, want := range map[string]string{
		"bogus":     `ready = "bogus": expected one of started, notify`,
		"check:":    `ready = "check:": expected check:NAME`,
		"fd:2":      `ready = "fd:2": expected fd:N with N >= 3`,
		"http:80/x": `ready = "http:80/x": expected one of`,
	} {
		v := &service{name: "x", cfg: &config.Service{Ready: spec}}
		var env []string
		var files []uintptr
		r, err := s.prepareReady(v, 1, &env, &files)
		if err == nil || !strings.Contains(err.Error(), want) {
			if r != nil {
				r.cancel()
			}
			t.Errorf("ready %q: got %v, want %q", spec, err, want)
		}
	}
}
