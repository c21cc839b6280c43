package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostLayers: layers written into CONFIG/fleet while unit runs (the
// fleet agent's job) take effect through the same reload path as local
// files: the directory may come later, a node layer overrides the local
// file, an invalid layer is refused naming its file and line and the last
// good state keeps running, and removing the layer brings the local one
// back.
func TestHostLayers(t *testing.T) {
	cfgDir, out := t.TempDir(), t.TempDir()
	motd := filepath.Join(out, "motd")
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf("[file.%q]\ncontent = \"local\\n\"\n", motd))
	d := startDaemon(t, cfgDir)
	read := func() string { b, _ := os.ReadFile(motd); return string(b) }
	waitFor(t, 10*time.Second, "the local file", func() bool { return read() == "local\n" })

	layers := filepath.Join(cfgDir, "fleet")
	if err := os.Mkdir(layers, 0o755); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, layers, "node.n1.toml", fmt.Sprintf("[file.%q]\ncontent = \"from the node layer\\n\"\n", motd))
	waitFor(t, 20*time.Second, "the node layer", func() bool { return read() == "from the node layer\n" })

	writeConfig(t, layers, "node.n1.toml", fmt.Sprintf("[file.%q]\ncontent = \"bad\"\nmode = \"0999\"\n", motd))
	waitFor(t, 20*time.Second, "the config error", func() bool {
		out, _ := d.unit("status")
		return strings.Contains(out, filepath.Join(layers, "node.n1.toml")+":3:")
	})
	if got := read(); got != "from the node layer\n" {
		t.Errorf("an invalid layer changed the file: %q", got)
	}

	if err := os.Remove(filepath.Join(layers, "node.n1.toml")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the local file again", func() bool { return read() == "local\n" })
}
