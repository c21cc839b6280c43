package declared

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/ids"
)

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func gather(t *testing.T, in Input) *Result {
	t.Helper()
	if in.Pins == nil {
		p, err := ids.Load(filepath.Join(t.TempDir(), "system.ids"))
		if err != nil {
			t.Fatal(err)
		}
		in.Pins = p
	}
	r, err := Gather(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func notes(r *Result) string {
	var s []string
	for _, n := range r.Notes {
		s = append(s, n.String())
	}
	return strings.Join(s, "\n")
}

// haproxy's declarations: its tmpfiles.d line and its postinst's adduser
// become a group, a user with a pinned id, and /run/haproxy with its
// setgid mode and owners. (gid 100 is Debian's static "users".)
func TestHaproxyShape(t *testing.T) {
	root := tree(t, map[string]string{
		"usr/lib/tmpfiles.d/haproxy.conf": "d /run/haproxy 2775 haproxy haproxy -\n",
		"var/lib/haproxy/":                "",
	})
	r := gather(t, Input{Root: root, Scripts: []Script{{Package: "haproxy", Postinst: "#!/bin/sh\nset -e\nadduser --system --disabled-password --disabled-login --home /var/lib/haproxy \\\n  --no-create-home --quiet --force-badname --group haproxy\n"}}})
	want := header + `
[group."haproxy"]
gid = 101
from = "haproxy.postinst:3"

[user."haproxy"]
uid = 100
group = "haproxy"
home = "/var/lib/haproxy"
shell = "/usr/sbin/nologin"
from = "haproxy.postinst:3"

[dir."/run/haproxy"]
mode = "2775"
owner = "haproxy"
group = "haproxy"
from = "/usr/lib/tmpfiles.d/haproxy.conf:1"
`
	if string(r.TOML) != want {
		t.Errorf("got:\n%s\nwant:\n%s", r.TOML, want)
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes: %s", notes(r))
	}
}

// sysusers.d with fixed and allocated ids, a member line, a range; the
// static www-data a tmpfiles owner names; /etc masking /usr/lib; what
// is not honoured is noted at its line.
func TestSysusersTmpfilesNotes(t *testing.T) {
	root := tree(t, map[string]string{
		"usr/lib/sysusers.d/a.conf": "g fixed 555\nu svc - \"Service\" /var/lib/svc\nm svc fixed\nr - 500-900\n",
		"usr/lib/sysusers.d/b.conf": "u masked 777\n",
		"etc/sysusers.d/b.conf":     "u unmasked -\n",
		"usr/lib/tmpfiles.d/x.conf": "d /var/cache/svc 0750 svc svc 10d\nL /run/svc.link - - - - /run/svc\nz /var/log/svc 0640 svc adm\nd /run/web - www-data adm -\nd /var/cache/svc 0700 root root -\n",
	})
	pins, _ := ids.Load(filepath.Join(t.TempDir(), "system.ids"))
	r := gather(t, Input{Root: root, Pins: pins})
	got := string(r.TOML)
	for _, want := range []string{
		"[group.\"fixed\"]\ngid = 555\n",
		"[user.\"svc\"]\nuid = 100\ngroup = \"svc\"\ngroups = [\"fixed\"]\nhome = \"/var/lib/svc\"\nshell = \"/usr/sbin/nologin\"\ncomment = \"Service\"\nfrom = \"/usr/lib/sysusers.d/a.conf:2\"",
		"[user.\"unmasked\"]",
		"[user.\"www-data\"]\nuid = 33\ngroup = \"www-data\"\nhome = \"/var/www\"",
		"[group.\"www-data\"]\ngid = 33\n",
		"[group.\"adm\"]\ngid = 4\n",
		"[tmpfile.\"/var/cache/svc\"]\nmode = \"0750\"\nowner = \"svc\"\ngroup = \"svc\"\nage = \"864000\"\n",
		"[link.\"/run/svc.link\"]\ntarget = \"/run/svc\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "masked\"]\nuid = 777") {
		t.Errorf("/etc/sysusers.d/b.conf should mask /usr/lib's:\n%s", got)
	}
	wantNotes := `/usr/lib/sysusers.d/a.conf:4: an id range: unit allocates system ids from 100..999
/usr/lib/tmpfiles.d/x.conf:3: z /var/log/svc: this tmpfiles.d type is not honoured
/usr/lib/tmpfiles.d/x.conf:5: /var/cache/svc: declared before at /usr/lib/tmpfiles.d/x.conf:1, which wins`
	if n := notes(r); n != wantNotes {
		t.Errorf("notes:\n%s\nwant:\n%s", n, wantNotes)
	}
	if len(pins.Added) == 0 {
		t.Error("nothing pinned")
	}
}

// A postinst's paths: a directory it makes gets the owner and mode the
// later commands give; a file's owner, a path the image lacks, -R and a
// path tmpfiles.d declared are noted; the system's own definitions win.
func TestScriptPaths(t *testing.T) {
	root := tree(t, map[string]string{
		"etc/db/db.conf":             "x",
		"var/lib/db/":                "",
		"usr/lib/tmpfiles.d/db.conf": "d /run/db 2775 db db -\n",
	})
	script := `#!/bin/sh
addgroup --system db
adduser --system --ingroup db --home /var/lib/db db
install -d -m 2775 -o db -g db /var/run/db
mkdir -p /var/log/db
chown root:db /var/log/db
chmod 1775 /var/log/db
chown -R db:db /var/lib/db
dpkg-statoverride --update --add db db 640 /etc/db/db.conf
chown db /var/lib/gone
ln -sf /etc/db/available/x /etc/db/enabled/x
ln -s /etc/db/db.conf /etc/db/db.conf
`
	r := gather(t, Input{Root: root, Scripts: []Script{{Package: "db", Postinst: script}},
		Defined: func(kind, name string) bool { return kind == "user" && name == "mine" },
		Users:   []Need{{"mine", config.Pos{File: "system.toml", Line: 3}}, {"www-data", config.Pos{File: "system.toml", Line: 9}}}})
	got := string(r.TOML)
	for _, want := range []string{
		"[dir.\"/var/log/db\"]\nmode = \"1775\"\nowner = \"root\"\ngroup = \"db\"\nfrom = \"db.postinst:5\"",
		"[dir.\"/var/lib/db\"]\nowner = \"db\"\ngroup = \"db\"\nfrom = \"db.postinst:8\"",
		"[user.\"db\"]\nuid = 100\ngroup = \"db\"\nhome = \"/var/lib/db\"",
		"[user.\"www-data\"]\nuid = 33",
		"[link.\"/etc/db/enabled/x\"]\ntarget = \"/etc/db/available/x\"\nfrom = \"db.postinst:11\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[link.\"/etc/db/db.conf\"]") {
		t.Errorf("a link over a file the package ships:\n%s", got)
	}
	if strings.Contains(got, "[user.\"mine\"]") {
		t.Errorf("a user the system defines was declared again:\n%s", got)
	}
	wantNotes := `db.postinst:4: /run/db: also declared at /usr/lib/tmpfiles.d/db.conf:1, which wins
db.postinst:8: /var/lib/db: -R: the directory only
db.postinst:9: /etc/db/db.conf: the owner or mode of a file is not reproduced (the image's files are root's)
db.postinst:10: /var/lib/gone: not in the image`
	if n := notes(r); n != wantNotes {
		t.Errorf("notes:\n%s\nwant:\n%s", n, wantNotes)
	}
}

// A symlink in the tree that points out of it is not followed.
func TestRootConfined(t *testing.T) {
	outside := tree(t, map[string]string{"evil.conf": "u evil 0\n"})
	root := tree(t, map[string]string{"usr/lib/": ""})
	if err := os.Symlink(outside, filepath.Join(root, "usr/lib/sysusers.d")); err != nil {
		t.Fatal(err)
	}
	if _, err := Gather(Input{Root: root, Pins: mustPins(t)}); err == nil || !strings.Contains(err.Error(), "sysusers.d") {
		t.Errorf("a link out of the tree: %v", err)
	}
}

func mustPins(t *testing.T) *ids.Pins {
	p, err := ids.Load(filepath.Join(t.TempDir(), "system.ids"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An image of Debian's packages has base-passwd's accounts, each from its
// line of the master files, but not those the image already has.
func TestBasePasswd(t *testing.T) {
	root := tree(t, map[string]string{"usr/": ""})
	r := gather(t, Input{Root: root, Debian: true, Defined: func(kind, name string) bool { return name == "root" }})
	got := string(r.TOML)
	for _, want := range []string{
		"[user.\"www-data\"]\nuid = 33\ngroup = \"www-data\"\nhome = \"/var/www\"\nshell = \"/usr/sbin/nologin\"\ncomment = \"www-data\"\nfrom = \"/usr/share/base-passwd/passwd.master:13\"",
		"[group.\"adm\"]\ngid = 4\nfrom = \"/usr/share/base-passwd/group.master:5\"",
		"[user.\"nobody\"]\nuid = 65534\ngroup = \"nogroup\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "[user.\"root\"]") || strings.Contains(got, "[group.\"root\"]") {
		t.Errorf("root declared again:\n%s", got)
	}
	if r := gather(t, Input{Root: root}); strings.Contains(string(r.TOML), "www-data") {
		t.Errorf("static accounts without Debian:\n%s", r.TOML)
	}
}
