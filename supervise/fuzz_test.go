package supervise

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzNotify: sd_notify datagrams come from services; any bytes parse.
func FuzzNotify(f *testing.F) {
	for _, s := range []string{"READY=1\nSTATUS=ok\n", "MAINPID=12\nWATCHDOG=1", "STATUS=\xff\x00\nREADY=0\n", "=\n\n==="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { _ = parseNotify(b) })
}

// FuzzEnvFile: env files are the user's; reading one never panics.
func FuzzEnvFile(f *testing.F) {
	for _, s := range []string{"A=1\nexport B=\"two\"\n# c\n;d\n", "X='\n=\nK V=1\n", "\"\"=\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "env")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = readEnvFile(p, map[string]string{})
	})
}
