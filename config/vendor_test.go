package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vendorTOML is what an image build writes into /usr/lib/unit.
const vendorTOML = `
[group."haproxy"]
gid = 101
from = "haproxy.postinst:3"

[user."haproxy"]
uid = 101
group = "haproxy"
from = "haproxy.postinst:3"

[dir."/run/haproxy"]
mode = "2775"
owner = "haproxy"
from = "/usr/lib/tmpfiles.d/haproxy.conf:1"

[dir."/srv"]
mode = "0700"
from = "/usr/lib/tmpfiles.d/srv.conf:4"
`

// TestVendorLayer: the vendor directory's tables load below the local
// files: a resource the local files define replaces the vendor one
// whole, with no "already defined" error; the others stay, placed at
// their from; Load and LoadFiles both read it.
func TestVendorLayer(t *testing.T) {
	vendor, dir := t.TempDir(), t.TempDir()
	write(t, vendor, "declared.toml", vendorTOML)
	local := write(t, dir, "system.toml", "[dir.\"/srv\"]\nowner = \"www-data\"\n\n[service.web]\nexec = [\"httpd\"]\nuser = \"haproxy\"\n")
	for name, load := range map[string]func(Loader) (*Config, error){
		"Load":      func(l Loader) (*Config, error) { return l.Load(dir) },
		"LoadFiles": func(l Loader) (*Config, error) { return l.LoadFiles(local) },
	} {
		c, err := load(Loader{Vendor: vendor})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := c.Dirs["/srv"]; d == nil || d.Mode != "" || d.Owner != "www-data" || d.Pos != (Pos{local, 1}) {
			t.Errorf("%s: /srv = %+v, want the local one, whole", name, d)
		}
		d := c.Dirs["/run/haproxy"]
		if d == nil || d.Mode != "2775" || d.Pos.String() != "/usr/lib/tmpfiles.d/haproxy.conf:1" || d.At("owner") != d.Pos {
			t.Errorf("%s: /run/haproxy = %+v", name, d)
		}
		if u := c.Users["haproxy"]; u == nil || *u.UID != 101 || u.Pos.String() != "haproxy.postinst:3" {
			t.Errorf("%s: user haproxy = %+v", name, u)
		}
		if len(c.Sources) != 2 || c.Sources[0] != filepath.Join(vendor, "declared.toml") {
			t.Errorf("%s: sources %q", name, c.Sources)
		}
	}
	// Without Vendor, nothing of it.
	if c, err := (Loader{}).Load(dir); err != nil || c.Users["haproxy"] != nil {
		t.Errorf("no vendor: %v, %v", err, c.Users)
	}
	// Two definitions inside the vendor layer are still an error.
	write(t, vendor, "more.toml", "[user.haproxy]\nfrom = \"x.conf:7\"\n")
	if _, err := (Loader{Vendor: vendor}).Load(dir); err == nil || !strings.Contains(err.Error(), `x.conf:7: user "haproxy" is already defined at haproxy.postinst:3`) {
		t.Errorf("twice in the vendor layer: %v", err)
	}
}

// TestFrom: a bad from is an error at its key; an error about a table
// with a from names the from, not the TOML line.
func TestFrom(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ toml, want string }{
		{"[dir.\"/a\"]\nmode = \"0755\"\nfrom = \"nowhere\"\n", ":3: from = \"nowhere\": expected FILE:LINE"},
		{"[dir.\"/a\"]\nfrom = \"f.conf:0\"\n", ":2: from = \"f.conf:0\": expected FILE:LINE"},
		{"[dir.\"/a\"]\nfrom = \":3\"\n", ":2: from = \":3\": expected FILE:LINE"},
		{"[dir.\"/a\"]\nmode = \"0999\"\nfrom = \"/usr/lib/tmpfiles.d/a.conf:12\"\n", "/usr/lib/tmpfiles.d/a.conf:12: dir \"/a\": mode"},
		{"[user.\"Bad\"]\nfrom = \"db.postinst:4\"\n", "db.postinst:4: user \"Bad\": invalid user name"},
	} {
		p := write(t, dir, "a.toml", tc.toml)
		_, err := LoadFiles(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.toml, err, tc.want)
		}
	}
	p := write(t, dir, "a.toml", "[tmpfile.\"/run/x\"]\nage = \"60\"\nfrom = \"/etc/tmpfiles.d/x.conf:2\"\n")
	c, err := LoadFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	if tf := c.Tmpfiles["/run/x"]; tf.Pos.String() != "/etc/tmpfiles.d/x.conf:2" || tf.From != "/etc/tmpfiles.d/x.conf:2" {
		t.Errorf("tmpfile = %+v", tf)
	}
	os.Remove(p)
}
