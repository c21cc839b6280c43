package authority

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/fleet/operator"
)

// TestContentByHash: an operator puts a file under its hash (once: a
// second put sends nothing), an enrolled node fetches it and checks the
// bytes against the name (a file already there is hashed again, not
// trusted); an object whose bytes do not hash to its name, a name that
// is not a hash, and a node's put are refused.
func TestContentByHash(t *testing.T) {
	f := newSecureFleet(t)
	ctx := context.Background()
	admin, err := f.js.ObjectStore(ctx, fleet.ContentBucket)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "update.tar")
	data := make([]byte, 3<<20) // several chunks
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	name, err := operator.PutContent(ctx, admin, src)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := admin.GetInfo(ctx, name)
	if again, err := operator.PutContent(ctx, admin, src); err != nil || again != name {
		t.Fatalf("second put: %s %v", again, err)
	}
	if info2, _ := admin.GetInfo(ctx, name); info2.NUID != info.NUID {
		t.Error("the same content was sent again")
	}

	v := make(violations, 64)
	nc := f.enrolled(t, "n1", nil, v)
	js, _ := jetstream.New(nc)
	obs, err := js.ObjectStore(ctx, fleet.ContentBucket)
	if err != nil {
		t.Fatalf("a node opens the content store: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "content")
	path, err := agent.FetchContent(ctx, obs, name, dir)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) || filepath.Base(path) != name {
		t.Fatalf("fetched %s: %d bytes", path, len(got))
	}
	// A file left there is checked, not trusted.
	os.WriteFile(path, []byte("tampered on disk"), 0o600)
	if path, err = agent.FetchContent(ctx, obs, name, dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Error("a tampered file on disk was taken")
	}
	v.none(t, nc)

	// Bytes that do not hash to their name (a broken or hostile put).
	forged := "sha256-" + strings.Repeat("ab", 32)
	if _, err := admin.PutBytes(ctx, forged, []byte("not what the name says")); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.FetchContent(ctx, obs, forged, dir); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("forged content: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, forged)); err == nil {
		t.Error("forged content was kept")
	}
	for _, bad := range []string{"../../etc/passwd", "sha256-XYZ", "", "sha256-" + strings.Repeat("a", 63)} {
		if _, err := agent.FetchContent(ctx, obs, bad, dir); err == nil || !strings.Contains(err.Error(), "expected sha256-") {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	v.refused(t, "put content", "$O.unit-content", func(ctx context.Context) error {
		_, err := obs.PutBytes(ctx, "sha256-"+strings.Repeat("cd", 32), []byte("x"))
		return err
	})
}
