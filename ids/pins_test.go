package ids

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Ids are allocated once and come back the same from the pin file, in
// any order of asking; static names keep Debian's numbers.
func TestPinsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "system.ids")
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	taken := func(id int) bool { return id == 100 || id == 101 } // the base image's
	hap, _ := p.User("haproxy", taken)
	hapg, _ := p.Group("haproxy", hap, taken)
	chr, _ := p.User("_chrony", taken)
	www, _ := p.User("www-data", taken)
	adm, _ := p.Group("adm", 0, taken)
	if hap != 102 || hapg != 102 || chr != 103 || www != 33 || adm != 4 {
		t.Fatalf("haproxy %d/%d _chrony %d www-data %d adm %d", hap, hapg, chr, www, adm)
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// A new user in the next build takes a new id, never an old one.
	newer, _ := q.User("unbound", nil)
	chr2, _ := q.User("_chrony", nil)
	hap2, _ := q.User("haproxy", nil)
	if chr2 != chr || hap2 != hap || newer == chr || newer == hap {
		t.Errorf("after reload: _chrony %d haproxy %d unbound %d", chr2, hap2, newer)
	}
	if len(q.Added) != 1 || q.Added[0] != "user unbound 100" {
		t.Errorf("added %q", q.Added)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
}

func TestPinsBadFile(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"user a 5\n", ":1: id \"5\": expected 100..999"},
		{"user a 100\nuser b 100\n", ":2: user b has id 100, already a's"},
		{"# c\nuser a 100\nuser a 101\n", ":3: user a pinned twice"},
		{"owner a 100\n", ":1: expected \"user NAME ID\""},
		{"user A:x 100\n", ":1: name \"A:x\""},
	} {
		path := filepath.Join(t.TempDir(), "system.ids")
		os.WriteFile(path, []byte(c.text), 0o644)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
}

func TestPinsFull(t *testing.T) {
	p, _ := Load(filepath.Join(t.TempDir(), "x"))
	if _, err := p.User("late", func(int) bool { return true }); err == nil || !strings.Contains(err.Error(), "no free id") {
		t.Errorf("a full range: %v", err)
	}
	if _, err := p.User("Bad:name", nil); err == nil {
		t.Error("a bad name was pinned")
	}
}

// The ordered lists and the lookup agree, one entry per name.
func TestStaticLists(t *testing.T) {
	if len(StaticGroups()) != len(staticGroups) {
		t.Errorf("%d ordered groups, %d known", len(StaticGroups()), len(staticGroups))
	}
	for _, g := range StaticGroups() {
		if _, ok := StaticGroup(g); !ok {
			t.Errorf("group %s ordered but unknown", g)
		}
	}
	if u := StaticUsers(); len(u) != 18 || u[12].Name != "www-data" || u[12].UID != 33 {
		t.Errorf("users: %v", u)
	}
}
