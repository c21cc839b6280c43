package operator

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayerKey: all, group.G and node.ID are layers' keys; anything
// else is refused with the key and what was expected.
func TestLayerKey(t *testing.T) {
	for _, k := range []string{"all", "group.web", "node.web-1", "node.i_0a"} {
		if err := LayerKey(k); err != nil {
			t.Errorf("LayerKey(%q): %v", k, err)
		}
	}
	for _, k := range []string{"", "web", "group.", "node.a.b", "group.../x", "all.toml"} {
		if err := LayerKey(k); err == nil || !strings.Contains(err.Error(), "expected all, group.NAME or node.ID") {
			t.Errorf("LayerKey(%q) = %v, want refused", k, err)
		}
	}
}

// TestReadLayer: a layer is read from its file or, for "-", from
// stdin; one of more than 1 MiB is refused from either, not cut.
func TestReadLayer(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.toml")
	os.WriteFile(small, []byte("# a\n"), 0o644)
	if b, err := ReadLayer(small, strings.NewReader("stdin")); err != nil || string(b) != "# a\n" {
		t.Errorf("ReadLayer(file) = %q, %v", b, err)
	}
	if b, err := ReadLayer("-", strings.NewReader("# stdin\n")); err != nil || string(b) != "# stdin\n" {
		t.Errorf("ReadLayer(-) = %q, %v", b, err)
	}
	exact := bytes.Repeat([]byte("#"), MaxLayer)
	if b, err := ReadLayer("-", bytes.NewReader(exact)); err != nil || len(b) != MaxLayer {
		t.Errorf("a layer of exactly 1 MiB: %d bytes, %v", len(b), err)
	}
	big := filepath.Join(dir, "big.toml")
	os.WriteFile(big, append(exact, '\n'), 0o644)
	for _, c := range []struct{ file, stdin string }{{big, ""}, {"-", string(exact) + "\n"}} {
		if b, err := ReadLayer(c.file, strings.NewReader(c.stdin)); err == nil || err.Error() != "a layer is at most 1 MiB" {
			t.Errorf("ReadLayer(%s) of 1 MiB + 1 = %d bytes, %v; want refused", c.file, len(b), err)
		}
	}
	if _, err := ReadLayer(filepath.Join(dir, "none.toml"), nil); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestCheckLayer: a layer that loads is taken; one that does not is
// refused with its file and line.
func TestCheckLayer(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "group.web.toml")
	os.WriteFile(good, []byte("[file.\"/etc/motd\"]\ncontent = \"hi\\n\"\n"), 0o644)
	if err := CheckLayer(good); err != nil {
		t.Errorf("CheckLayer(good): %v", err)
	}
	bad := filepath.Join(dir, "group.db.toml")
	os.WriteFile(bad, []byte("# a comment\n[file.\"/etc/motd\"]\ncontent = \"hi\\n\"\nnot_a_key = 1\n"), 0o644)
	if err := CheckLayer(bad); err == nil || !strings.Contains(err.Error(), bad+":4") {
		t.Errorf("CheckLayer(bad) = %v, want %s:4", err, bad)
	}
}
