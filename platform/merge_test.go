package platform_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/unit-os/unit/platform"
)

// TestMergeFacts: a seed's facts win and stay; an earlier fetch's
// are replaced; nothing is written when nothing changed; a file that
// cannot be read is left alone.
func TestMergeFacts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "platform.json")
	imds := map[string]string{"seed": "imds", "instance_id": "i-0abc", "availability_zone": "eu-west-1a", "role": "db"}

	// No file: the facts are the file.
	mustMerge(t, path, imds, true, imds)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	unchanged(t, path, func() { mustMerge(t, path, imds, false, imds) })

	// An earlier fetch's facts are replaced: a tag removed since goes.
	later := map[string]string{"seed": "imds", "instance_id": "i-0abc", "availability_zone": "eu-west-1a", "team": "blue"}
	mustMerge(t, path, later, true, later)

	// A seed's facts win; the fetch only adds.
	seed := `{"instance_id":"iid-local","local_hostname":"web-1","role":"web","seed":"nocloud"}`
	if err := os.WriteFile(path, []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	merged := map[string]string{"seed": "nocloud", "instance_id": "iid-local", "local_hostname": "web-1", "role": "web", "availability_zone": "eu-west-1a"}
	mustMerge(t, path, imds, true, merged)
	unchanged(t, path, func() { mustMerge(t, path, imds, false, merged) })

	// A file that is not facts is not overwritten: it may be a seed's.
	if err := os.WriteFile(path, []byte(`{"role":`), 0o644); err != nil {
		t.Fatal(err)
	}
	unchanged(t, path, func() {
		if _, err := platform.MergeFacts(path, imds); err == nil {
			t.Error("merged into a file that is not JSON")
		}
	})

	// Facts that are not facts are refused before anything is read.
	for _, bad := range []map[string]string{{"bad key": "x"}, {"role": "a\nb"}, {"role": strings.Repeat("x", 1025)}} {
		if _, err := platform.MergeFacts(filepath.Join(dir, "new.json"), bad); err == nil {
			t.Errorf("%v merged", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.json")); err == nil {
		t.Error("refused facts written")
	}
}

func mustMerge(t *testing.T, path string, facts map[string]string, wantChanged bool, want map[string]string) {
	t.Helper()
	changed, err := platform.MergeFacts(path, facts)
	if err != nil {
		t.Fatal(err)
	}
	if changed != wantChanged {
		t.Errorf("changed = %v, want %v", changed, wantChanged)
	}
	got := readFacts(t, path)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file has %v, want %v", got, want)
	}
}

func readFacts(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// unchanged fails if do rewrote path: a new inode (an atomic write is a
// rename) or a new mtime.
func unchanged(t *testing.T, path string, do func()) {
	t.Helper()
	var before, after syscall.Stat_t
	if err := syscall.Stat(path, &before); err != nil {
		t.Fatal(err)
	}
	do()
	if err := syscall.Stat(path, &after); err != nil {
		t.Fatal(err)
	}
	if before.Ino != after.Ino || before.Mtim != after.Mtim {
		t.Errorf("%s rewritten: inode %d→%d, mtime %v→%v", path, before.Ino, after.Ino, before.Mtim, after.Mtim)
	}
}
