package operator

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/fleettest"
	"github.com/unit-os/unit/update"
)

// bundleFile writes an update bundle of three small parts and returns
// its path.
func bundleFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for _, name := range []string{update.ImagePart, update.UKIPart, update.RootPart} {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], []byte("part "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := update.WriteBundle(&buf, update.Manifest{Release: "git:abc", Hostname: "h", Kernel: "6.1.0-x", Hardware: "pc"}, paths); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "update.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenBundle: a bundle gives its id before any broker is asked; a
// file that is not one is refused with its path.
func TestOpenBundle(t *testing.T) {
	path := bundleFile(t)
	b, err := OpenBundle(path)
	if err != nil || b.Path != path || b.ID == "" {
		t.Fatalf("OpenBundle = %+v, %v", b, err)
	}
	f, _ := os.Open(path)
	r, err := update.NewReader(f)
	f.Close()
	if err != nil || r.ID() != b.ID {
		t.Errorf("id %q, the bundle's is %q (%v)", b.ID, r.ID(), err)
	}
	junk := filepath.Join(t.TempDir(), "junk.tar")
	os.WriteFile(junk, []byte("not a tar"), 0o644)
	if _, err := OpenBundle(junk); err == nil || !strings.HasPrefix(err.Error(), junk+": ") {
		t.Errorf("OpenBundle(junk) = %v, want refused with its path", err)
	}
}

// TestBundlePut: the bundle goes into the content store under its hash,
// and the request pins the nodes to its id; without the store, Put
// says which is missing.
func TestBundlePut(t *testing.T) {
	nc := fleettest.Broker(t)
	ctx := context.Background()
	b, err := OpenBundle(bundleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, nc); err == nil || !strings.Contains(err.Error(), "content store "+fleet.ContentBucket) {
		t.Errorf("Put with no content store: %v", err)
	}
	js, _ := jetstream.New(nc)
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: fleet.ContentBucket})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, nc); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(b.Path)
	if got, err := obs.GetBytes(ctx, b.Content); err != nil || !bytes.Equal(got, want) || !strings.HasPrefix(b.Content, "sha256-") {
		t.Errorf("the store holds %d bytes under %q (%v), want the bundle's %d", len(got), b.Content, err, len(want))
	}
	req := b.Request(true)
	if req.Cmd != "update" || req.Content != b.Content || req.SHA256 != b.ID || !req.NoReboot {
		t.Errorf("Request(true) = %+v", req)
	}
	if b.Request(false).NoReboot {
		t.Error("Request(false) asks for no reboot")
	}
}
