package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayers: node > group > all > local, a resource or a single table
// replaced whole by the highest layer that defines it; two definitions in
// one layer are still an error; an error in a layer names its file and
// line; a file in fleet/ that is not a layer is refused.
func TestLayers(t *testing.T) {
	dir := t.TempDir()
	layers := filepath.Join(dir, LayerDir)
	os.Mkdir(layers, 0o755)
	write(t, dir, "a.toml", `
[system]
hostname = "base"

[file."/etc/motd"]
content = "local\n"
mode    = "0600"

[file."/etc/local-only"]
content = "x\n"

[service.web]
exec = ["httpd", "-f"]
`)
	write(t, layers, "all.toml", "[file.\"/etc/motd\"]\ncontent = \"all\\n\"\n\n[file.\"/etc/from-all\"]\ncontent = \"a\\n\"\n")
	write(t, layers, "group.web.toml", "[file.\"/etc/motd\"]\ncontent = \"group web\\n\"\n\n[system]\nhostname = \"web\"\n")
	write(t, layers, "node.n1.toml", "[service.web]\nexec = [\"httpd\", \"-f\", \"-p\", \"8080\"]\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Files["/etc/motd"]; got.Content == nil || *got.Content != "group web\n" || got.Mode != "" {
		t.Errorf("motd: %+v (want the group's, whole: no mode from below)", got)
	}
	if c.Files["/etc/local-only"] == nil || c.Files["/etc/from-all"] == nil {
		t.Error("a resource only one layer defines is gone")
	}
	if c.System.Hostname != "web" || strings.Join(c.Services["web"].Exec, " ") != "httpd -f -p 8080" {
		t.Errorf("system %q, web %q", c.System.Hostname, c.Services["web"].Exec)
	}
	if n := len(c.Sources); n != 4 || !strings.HasSuffix(c.Sources[3], "fleet/node.n1.toml") {
		t.Errorf("sources %q", c.Sources)
	}

	// An invalid layer: the error names the layer's file and line.
	write(t, layers, "group.web.toml", "[file.\"/etc/motd\"]\ncontent = \"x\"\nmode = \"0999\"\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(layers, "group.web.toml")+":3:") {
		t.Errorf("invalid layer: %v", err)
	}
	// Twice in one layer is an error, as in the local files.
	write(t, layers, "group.web.toml", "")
	write(t, layers, "group.db.toml", "[file.\"/etc/x\"]\ncontent = \"1\"\n")
	write(t, layers, "group.web.toml", "[file.\"/etc/x\"]\ncontent = \"2\"\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `file "/etc/x" is already defined at `+filepath.Join(layers, "group.db.toml")) {
		t.Errorf("twice in the group layer: %v", err)
	}
	os.Remove(filepath.Join(layers, "group.db.toml"))
	write(t, layers, "extra.toml", "")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "a layer is a file all.toml, group.NAME.toml or node.NAME.toml") {
		t.Errorf("a stray file: %v", err)
	}
}
