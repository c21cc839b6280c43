package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResource: an ad-hoc resource is validated as config is (with what
// was expected), a dry run changes nothing, a real one converges once;
// services and hostile specs are refused.
func TestResource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "motd")
	spec := "file " + path + " content=hello mode=0640"
	out, err := ApplyResource(context.Background(), spec, true)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a dry run wrote the file")
	}
	if !strings.Contains(out, path) {
		t.Errorf("the dry run's report does not name the file:\n%s", out)
	}
	if out, err := ApplyResource(context.Background(), spec, false); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello" {
		t.Fatalf("after the apply: %q %v", b, err)
	}
	for spec, want := range map[string]string{
		"service web exec=/bin/true":   "put it in a layer",
		"nosuch x":                     `"nosuch" is not a kind`,
		"user":                         "expected KIND NAME",
		"user deploy uid":              "expected KEY=VALUE",
		"user deploy uid=abc":          "resource.toml:",
		"file relative/path content=x": "resource.toml:",
		"user deploy " + strings.Repeat("x", 5000): "at most",
	} {
		if _, err := ApplyResource(context.Background(), spec, true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: %v, want %q", spec, err, want)
		}
	}
}
