package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadLayer: any bytes as a fleet layer (what the agent writes from
// the broker and PID 1 then loads over the local files) never panic the
// loader, are refused within the limits before decoding, and every error
// names one of the files loaded. Seeds: testdata/fuzz/FuzzLoadLayer and
// the ones below.
func FuzzLoadLayer(f *testing.F) {
	for _, s := range []string{
		"[file.\"/etc/motd\"]\ncontent = \"all\\n\"\n[system]\nhostname = \"web\"\n",
		"[service.web]\nexec = [\"httpd\", \"-f\", \"-p\", \"8080\"]\nenv = { A = \"1\" }\n",
		"[service.web]\nexec = [[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]\n",
		"[a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a]\n",
		"x = [{a=[{a=[{a=[{a=1}]}]}]}]\n[[service.web.check]]\n",
		"[file.\"/etc/x\"]\ncontent = \"1\"\n[file.\"/etc/x\"]\nmode = 0999\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		layers := filepath.Join(dir, LayerDir)
		if err := os.Mkdir(layers, 0o755); err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(dir, "a.toml")
		layer := filepath.Join(layers, "node.n.toml")
		if err := os.WriteFile(local, []byte("[service.web]\nexec = [\"httpd\"]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(layer, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		limited := checkLimits(layer, data)
		if limited != nil && err == nil {
			t.Fatalf("loaded past a limit: %v", limited)
		}
		var errs Errors
		if err != nil && !errors.As(err, &errs) {
			t.Fatalf("not a config error: %v", err)
		}
		for _, e := range errs {
			if e.Pos.File != local && e.Pos.File != layer && e.Pos.File != "" {
				t.Fatalf("error names another file: %v", e)
			}
			if limited != nil && e.Pos.File == layer && !strings.Contains(limited.Error(), e.Msg) {
				t.Fatalf("a refused layer decoded anyway: %v", e)
			}
		}
	})
}
