package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// A service's user must exist in the image: declared, or root.
func TestCheckAccounts(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.toml")
	os.WriteFile(sys, []byte("[service.a]\nexec = [\"x\"]\nuser = \"postgres\"\n\n[service.b]\nexec = [\"x\"]\nuser = \"root\"\ngroup = \"www\"\n\n[service.c]\nexec = [\"x\"]\nuser = \"web\"\n[user.web]\nuid = 33\n\n[service.d]\nexec = [\"x\"]\nuser = \"1000\"\n"), 0o644)
	cfg, err := config.LoadFiles(sys)
	if err != nil {
		t.Fatal(err)
	}
	err = checkAccounts(cfg, baseEntries(nil))
	if err == nil {
		t.Fatal("accepted a service as a user the image lacks")
	}
	msg := err.Error()
	for _, want := range []string{sys + `:1: service.a.user: user "postgres" is not on this system: declare [user.postgres]`, sys + `:5: service.b.group: group "www" is not on this system`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "service.c") || strings.Contains(msg, "service.d") || strings.Contains(msg, `user "root"`) {
		t.Errorf("declared, numeric or root users refused:\n%s", msg)
	}
}
