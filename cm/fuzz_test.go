package cm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/config"
)

// FuzzLoadAndValidate: any bytes as a config file never panic the loader,
// the per-table decoder or the engine's validation (PID 1 runs them on
// every reload). Seeds: testdata/fuzz/FuzzLoadAndValidate and the ones
// below.
func FuzzLoadAndValidate(f *testing.F) {
	for _, s := range []string{
		"[service.web]\nexec = [\"httpd\", \"-f\"]\nready = \"tcp:80\"\nrequires = [\"service:db\"]\n[service.db]\nexec = [\"db\"]\n",
		"[file.\"/etc/x\"]\ncontent = \"x\"\nmode = 0644\nnotify = [\"service:web\"]\n",
		"[service.web]\nexec = \"sleep 100\"\nready_timeout = 90\nnosuch = 1\n[services.x]\n",
		"[system]\nconsole = \"shell\"\ninclude = [\"/usr/share/zoneinfo\"]\nexclude = [\"lib/[\"]\n[dir.\"/srv\"]\n[link.\"/srv\"]\ntarget = \"/x\"\n",
		"[user.u]\nuid = -1\n[group.g]\nmembers = [\"u\"]\n[exec.e]\ncommand = [\"/bin/true\"]\ncreates = \"/x\"\nrequires = [\"exec:e\"]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "a.toml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.LoadFiles(p)
		if err == nil {
			_ = Validate(cfg)
		}
	})
}
