package image

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/pkgbuild"
)

// hapPostinst makes a system user and group, a directory it owns, and
// installs a conffile from the package's template (one from a template
// the package lacks).
const hapPostinst = `#!/bin/sh
set -e
if [ "$1" = configure ]; then
	adduser --system --group --home /var/lib/hap --no-create-home hap
	install -d -m 0750 -o hap -g hap /var/lib/hap
	ucf /usr/share/hap/hap.cfg /etc/hap/hap.cfg
	ucf /usr/share/hap/gone.cfg /etc/hap/gone.cfg
fi
`

// declStore is a store with hap, a Debian package that declares its
// daemon's accounts and directories in all three ways. (Its group's gid is not its uid: 100 is Debian's static "users".)
func declStore(t *testing.T) string {
	store := filepath.Join(t.TempDir(), "store")
	rel := fakeKeg(t, store, "hap", nil, map[string]string{
		"usr/bin/hap":                    "#!/bin/sh\nexec sleep 1000\n",
		"usr/lib/tmpfiles.d/hap.conf":    "d /run/hap 2775 hap hap -\n",
		"usr/lib/sysusers.d/hapsys.conf": "u hapsys - \"Hap helper\" /var/lib/hapsys\n",
		"usr/share/hap/hap.cfg":          "listen 80\n",
	})
	meta, _ := json.Marshal(pkgbuild.Keg{Name: "hap", Version: "1", Hash: "haphash",
		Deb: &pkgbuild.DebInfo{Package: "hap", Version: "1", Arch: "amd64", Postinst: hapPostinst}})
	if err := os.WriteFile(filepath.Join(store, rel, pkgbuild.MetaName), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	return store
}

// TestBuildDeclared: an image of hap holds usr/lib/unit/declared.toml
// with the users, groups and directories its package declares (each
// from its line), the user a service names and nothing defines, and the
// conffile its postinst installs; the ids are pinned beside the system
// and a second build gives the same; what is not taken is printed.
// Without it, the build fails: the services' users do not exist.
func TestBuildDeclared(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a kernel with apt")
	}
	for _, tool := range []string{"apt-get", "zstd", "cpio"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	tmp := t.TempDir()
	store := declStore(t)
	system := filepath.Join(tmp, "system.toml")
	os.WriteFile(system, []byte(`[system]
packages = ["hap"]

[service.hap]
exec = ["/usr/bin/hap"]
user = "hap"

[service.other]
exec = ["/usr/bin/hap"]
user = "thatuser"
`), 0o644)
	build := func() (map[string][]byte, string) {
		var notes bytes.Buffer
		res, err := Build(context.Background(), Options{System: system, Out: filepath.Join(tmp, "out"), Init: system,
			CacheDir: testCache(), Store: store, Recipes: tmp, Notes: &notes})
		if err != nil {
			t.Fatal(err)
		}
		return initramfsFiles(t, res.Initramfs), notes.String()
	}
	files, notes := build()
	decl := string(files[declaredName])
	for _, want := range []string{
		"[group.\"hap\"]\ngid = 101\nfrom = \"hap.postinst:4\"\n",
		"[user.\"hap\"]\nuid = 100\ngroup = \"hap\"\nhome = \"/var/lib/hap\"\nshell = \"/usr/sbin/nologin\"\nfrom = \"hap.postinst:4\"\n",
		"[user.\"hapsys\"]\nuid = 101\n",
		"comment = \"Hap helper\"\nfrom = \"/usr/lib/sysusers.d/hapsys.conf:1\"\n",
		"[user.\"thatuser\"]\nuid = 102\ngroup = \"thatuser\"\n",
		"from = \"" + system + ":8\"\n",
		"[dir.\"/run/hap\"]\nmode = \"2775\"\nowner = \"hap\"\ngroup = \"hap\"\nfrom = \"/usr/lib/tmpfiles.d/hap.conf:1\"\n",
		"[dir.\"/var/lib/hap\"]\nmode = \"0750\"\nowner = \"hap\"\ngroup = \"hap\"\nfrom = \"hap.postinst:5\"\n",
	} {
		if !strings.Contains(decl, want) {
			t.Errorf("%s lacks\n%s\nin:\n%s", declaredName, want, decl)
		}
	}
	if got := string(files["etc/hap/hap.cfg"]); got != "listen 80\n" {
		t.Errorf("etc/hap/hap.cfg = %q, want the package's template", got)
	}
	for _, want := range []string{
		"hap.postinst:7: /usr/share/hap/gone.cfg -> /etc/hap/gone.cfg: not copied: /usr/share/hap/gone.cfg is not in the package\n",
		"pinned user hap 100 in " + PinsPath(system) + ": keep it with the system\n",
		"pinned user thatuser 102 in ",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	pins, err := os.ReadFile(filepath.Join(tmp, "system.ids"))
	if err != nil || !strings.Contains(string(pins), "user hap 100\n") {
		t.Errorf("pin file: %v\n%s", err, pins)
	}
	// The config PID 1 loads: /etc/unit over /usr/lib/unit.
	vendor, etc := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(vendor, "declared.toml"), files[declaredName], 0o644)
	os.WriteFile(filepath.Join(etc, "system.toml"), files["etc/unit/system.toml"], 0o644)
	cfg, err := config.Loader{Vendor: vendor}.Load(etc)
	if err != nil || cfg.Users["hap"] == nil || cfg.Dirs["/run/hap"].Pos.String() != "/usr/lib/tmpfiles.d/hap.conf:1" {
		t.Errorf("loading the image's config: %v", err)
	}

	// Again: the same ids, nothing pinned anew.
	files2, notes2 := build()
	if !bytes.Equal(files2[declaredName], files[declaredName]) {
		t.Errorf("second build's declarations differ:\n%s", files2[declaredName])
	}
	if strings.Contains(notes2, "pinned") {
		t.Errorf("second build pinned again:\n%s", notes2)
	}

	// A user the system defines wins whole: not declared, not pinned.
	os.WriteFile(system, []byte("[system]\npackages = [\"hap\"]\n\n[service.hap]\nexec = [\"/usr/bin/hap\"]\nuser = \"hap\"\n\n[user.hap]\nuid = 500\n"), 0o644)
	files3, _ := build()
	if d := string(files3[declaredName]); strings.Contains(d, "[user.\"hap\"]") || !strings.Contains(d, "[group.\"hap\"]") {
		t.Errorf("the system's [user.hap] should replace the declared one:\n%s", d)
	}
}

// initramfsFiles reads every regular file of an initramfs (concatenated
// newc archives, zstd-compressed).
func initramfsFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := exec.Command("zstd", "-dc", path).Output()
	if err != nil {
		t.Fatalf("zstd -dc %s: %v", path, err)
	}
	out := map[string][]byte{}
	pad := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; off+110 <= len(b); {
		if b[off] == 0 {
			off++ // padding between archives
			continue
		}
		field := func(i int) int {
			v, _ := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			return int(v)
		}
		mode, size, nameSize := field(1), field(6), field(11)
		name := string(b[off+110 : off+110+nameSize-1])
		data := pad(off + 110 + nameSize)
		if mode&0o170000 == 0o100000 {
			out[name] = b[data : data+size]
		}
		off = data + pad(size)
	}
	return out
}
