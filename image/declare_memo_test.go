package image

import (
	"testing"

	"github.com/unit-os/unit/declared"
)

// TestDeclareKey: the key follows what Gather reads (a declaration
// file's contents, a path, the pin file, a name the config uses) and
// not what it does not (a plain file's contents).
func TestDeclareKey(t *testing.T) {
	cfg, _ := loadSystem(t, "[system]\n")
	pins := t.TempDir() + "/system.ids"
	base := []entry{
		{Name: "usr/lib/sysusers.d/a.conf", Mode: 0o644, Data: []byte("u a - -\n")},
		{Name: "usr/bin/prog", Mode: 0o755, Data: []byte("one")},
	}
	key := func(es []entry, users []declared.Need) string {
		k, err := declareKey(es, nil, accounts{}, pins, users, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k0 := key(base, nil)
	same := append([]entry(nil), base...)
	same[1].Data = []byte("two")
	if key(same, nil) != k0 {
		t.Error("a plain file's contents changed the key")
	}
	decl := append([]entry(nil), base...)
	decl[0].Data = []byte("u b - -\n")
	more := append(append([]entry(nil), base...), entry{Name: "var/lib/x", Mode: 0o755 | 1<<31})
	for what, k := range map[string]string{
		"declaration": key(decl, nil),
		"path":        key(more, nil),
		"user":        key(base, []declared.Need{{Name: "www"}}),
	} {
		if k == k0 {
			t.Errorf("a changed %s kept the key", what)
		}
	}
	if err := writeAtomic(pins, []byte("user a 999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if key(base, nil) == k0 {
		t.Error("a changed pin file kept the key")
	}
}
