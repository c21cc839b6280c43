package authority

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/agent"
	"github.com/unit-os/unit/fleet/content"
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

// TestContentStoreRoles: through fleet/content (unit-fleet content), an
// admin puts a blob and gets it back; a reader and a node get it, and
// the broker refuses their puts.
func TestContentStoreRoles(t *testing.T) {
	f := newSecureFleet(t)
	ctx := context.Background()
	data := make([]byte, 200<<10)
	rand.Read(data)
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	admin, err := content.Open(ctx, f.admin, fleet.ContentBucket, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("an admin's put: %v", err)
	}

	creds, err := f.a.User("builder", fleet.RoleReader, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "builder.creds")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	rv := make(violations, 16)
	reader, err := nats.Connect(f.url, append(fleet.OperatorOptions(path, f.a.CAPath()), nats.ErrorHandler(rv.handler))...)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	nv := make(violations, 16)
	node := f.enrolled(t, "n1", nil, nv)

	other := make([]byte, 1000)
	rand.Read(other)
	oh := sha256.Sum256(other)
	for _, c := range []struct {
		who string
		nc  *nats.Conn
		v   violations
	}{{"a reader", reader, rv}, {"a node", node, nv}} {
		s, err := content.Open(ctx, c.nc, fleet.ContentBucket, c.who)
		if err != nil {
			t.Fatalf("%s opens the content store: %v", c.who, err)
		}
		var got bytes.Buffer
		if err := s.Get(ctx, sum, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("%s's get: %v", c.who, err)
		}
		c.v.none(t, c.nc)
		c.v.refused(t, c.who+"'s put", "$O."+fleet.ContentBucket, func(ctx context.Context) error {
			return s.Put(ctx, hex.EncodeToString(oh[:]), bytes.NewReader(other), int64(len(other)))
		})
	}
	if ok, err := admin.Has(ctx, hex.EncodeToString(oh[:]), -1); err != nil || ok {
		t.Errorf("a refused put left a blob: %v %v", ok, err)
	}
}
