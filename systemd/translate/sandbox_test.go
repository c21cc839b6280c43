package translate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// TestNamespaceKeys: the namespace keys map onto the [service] keys at
// their lines ("+" dropped, "-" kept, paths cleaned); what cannot be
// expressed is listed; the result loads.
func TestNamespaceKeys(t *testing.T) {
	root := unitRoot(t, "ns", `[Service]
ExecStart=/bin/ns
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=tmpfs
ReadWritePaths=/var/lib/ns -/srv/ns/ +-/opt/ns
ReadOnlyPaths=/etc/ns
InaccessiblePaths=-/var/secret "/var/sec ret"
BindPaths=/a:/b:norbind
BindReadOnlyPaths=-/dev/log:/var/lib/ns/dev/log /c\:d:/e
`)
	r, err := Service(root, "ns")
	if err != nil {
		t.Fatal(err)
	}
	s := r.Service
	got := []any{s.PrivateTmp, s.ProtectSystem, s.ProtectHome, s.ReadWritePaths, s.ReadOnlyPaths, s.InaccessiblePaths, s.BindPaths, s.BindReadOnlyPaths}
	want := []any{true, "strict", "tmpfs", []string{"/var/lib/ns", "-/srv/ns", "-/opt/ns"}, []string{"/etc/ns"},
		[]string{"-/var/secret", "/var/sec ret"}, []string{"/a:/b:norbind"}, []string{"-/dev/log:/var/lib/ns/dev/log"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for key, line := range map[string]int{"private_tmp": 3, "protect_system": 4, "protect_home": 5, "read_write_paths": 6,
		"read_only_paths": 7, "inaccessible_paths": 8, "bind_paths": 9, "bind_read_only_paths": 10} {
		if p := s.At(key); p.Line != line {
			t.Errorf("%s at %v, want line %d", key, p, line)
		}
	}
	var notes []string
	for _, n := range r.Notes {
		notes = append(notes, n.String())
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `ns.service:10: BindReadOnlyPaths= not honoured: /c\:d:/e: a path with an escape`) {
		t.Errorf("notes: %q", notes)
	}
	p := filepath.Join(t.TempDir(), "system.toml")
	os.WriteFile(p, []byte("[service.ns]\n"), 0o644)
	if _, err := (config.Loader{Declared: Declared(root)}).LoadFiles(p); err != nil {
		t.Errorf("load: %v", err)
	}
}
