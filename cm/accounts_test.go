package cm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func accountsRoot(t *testing.T) (passwd, group, shadow string, opt Option) {
	t.Helper()
	root := t.TempDir()
	passwd, group, shadow = filepath.Join(root, "passwd"), filepath.Join(root, "group"), filepath.Join(root, "shadow")
	os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\n# a comment stays\nold:x:1000:1000::/home/old:/bin/sh\n"), 0o644)
	os.WriteFile(group, []byte("root:x:0:\nusers:x:100:\nold:x:1000:\n"), 0o644)
	os.WriteFile(shadow, []byte("root:*:19000:0:99999:7:::\nold:$6$keep:19000:0:99999:7:::\n"), 0o600)
	return passwd, group, shadow, WithAccountsDB(passwd, group, shadow)
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUsersAndGroups(t *testing.T) {
	passwd, group, shadow, opt := accountsRoot(t)
	src := `
[group.web]
members = ["old"]
[group.ops]
gid = 2000
[user.www]
groups = ["web", "ops"]
home = "/var/www"
shell = "/bin/false"
[user.alice]
uid = 1500
group = "ops"
password = "$6$hash"
`
	cfg := loadCfg(t, src)
	rep := applyOnce(t, cfg, opt)
	if rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	// Ids are allocated deterministically: lowest free >= 1000.
	wantPasswd := "root:x:0:0:root:/root:/bin/sh\n# a comment stays\nold:x:1000:1000::/home/old:/bin/sh\n" +
		"alice:x:1500:2000::/home/alice:/bin/sh\nwww:x:1001:100::/var/www:/bin/false\n"
	if got := read(t, passwd); got != wantPasswd {
		t.Errorf("passwd:\n%s\nwant:\n%s", got, wantPasswd)
	}
	wantGroup := "root:x:0:\nusers:x:100:\nold:x:1000:\nops:x:2000:www\nweb:x:1001:old,www\n"
	if got := read(t, group); got != wantGroup {
		t.Errorf("group:\n%s\nwant:\n%s", got, wantGroup)
	}
	sh := read(t, shadow)
	if !strings.Contains(sh, "old:$6$keep:19000:0:99999:7:::\n") || !strings.Contains(sh, "alice:$6$hash::0:99999:7:::\n") ||
		!strings.Contains(sh, "www:!::0:99999:7:::\n") {
		t.Errorf("shadow:\n%s", sh)
	}
	if fi, _ := os.Stat(shadow); fi.Mode().Perm() != 0o600 {
		t.Errorf("shadow mode %v", fi.Mode())
	}
	mustNoop(t, cfg, opt)

	// Drift in one field is reported old -> new and repaired.
	os.WriteFile(passwd, []byte(strings.Replace(read(t, passwd), "/bin/false", "/bin/bash", 1)), 0o644)
	rep = applyOnce(t, cfg, opt)
	if !strings.Contains(rep.String(), "user:www: shell /bin/bash -> /bin/false") {
		t.Errorf("%s", rep)
	}

	// Absent removes passwd and shadow lines and memberships.
	cfg2 := loadCfg(t, src+"\n[user.old]\nensure = \"absent\"\n")
	applyOnce(t, cfg2, opt)
	if strings.Contains(read(t, passwd), "old:") || strings.Contains(read(t, shadow), "old:") {
		t.Errorf("old still there:\n%s\n%s\n%s", read(t, passwd), read(t, shadow), read(t, group))
	}
}

func TestUserMissingGroupFails(t *testing.T) {
	_, _, _, opt := accountsRoot(t)
	cfg := loadCfg(t, "[user.x]\ngroup = \"nogroup\"\n")
	if rep := applyOnce(t, cfg, opt); rep.Failed != 1 || !strings.Contains(rep.String(), `group "nogroup" not in`) {
		t.Errorf("%s", rep)
	}
}

// A file owned by a user created in the same run: the user comes first.
func TestFileOwnerCreatedFirst(t *testing.T) {
	passwd, _, _, opt := accountsRoot(t)
	_ = passwd
	if os.Getuid() != 0 {
		t.Skip("chown needs root")
	}
	p := filepath.Join(t.TempDir(), "f")
	cfg := loadCfg(t, "[user.zed]\nuid = 4321\n[file.\""+p+"\"]\ncontent = \"x\"\nowner = \"zed\"\n")
	rep := applyOnce(t, cfg, opt)
	if rep.Failed != 0 || stat(t, p).Uid != 4321 {
		t.Fatalf("%s", rep)
	}
}
