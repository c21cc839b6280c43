package content

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/fleettest"
)

// newStore is the content store of a fresh broker's fleet buckets.
func newStore(t *testing.T) (*Store, jetstream.ObjectStore) {
	t.Helper()
	ctx := context.Background()
	nc := fleettest.Broker(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.EnsureBuckets(ctx, js); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, nc, fleet.ContentBucket, "nats://test")
	if err != nil {
		t.Fatal(err)
	}
	return s, s.obs
}

func blob(n int) ([]byte, string) {
	b := make([]byte, n)
	rand.Read(b)
	h := sha256.Sum256(b)
	return b, hex.EncodeToString(h[:])
}

// unread fails the test if it is read.
type unread struct{ t *testing.T }

func (u unread) Read([]byte) (int, error) {
	u.t.Error("a blob the store has was read again")
	return 0, io.EOF
}

// empty says the store's stream holds no message: no chunk, no meta.
func empty(t *testing.T, obs jetstream.ObjectStore) {
	t.Helper()
	st, err := obs.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 0 {
		t.Errorf("the store holds %d bytes, want nothing", st.Size())
	}
}

// TestRoundTrip: a blob of several chunks goes in under its sum and comes
// back the same; a second put reads nothing and sends nothing.
func TestRoundTrip(t *testing.T) {
	s, obs := newStore(t)
	ctx := context.Background()
	data, sum := blob(3 << 20)
	if ok, err := s.Has(ctx, sum, -1); err != nil || ok {
		t.Fatalf("has before put: %v %v", ok, err)
	}
	if err := s.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	info, err := obs.GetInfo(ctx, "sha256-"+sum)
	if err != nil {
		t.Fatalf("the object is not named sha256-SUM: %v", err)
	}
	if err := s.Put(ctx, sum, unread{t}, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if info2, _ := obs.GetInfo(ctx, "sha256-"+sum); info2.NUID != info.NUID {
		t.Error("the same blob was sent again")
	}
	var got bytes.Buffer
	if err := s.Get(ctx, sum, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("got %d bytes back, not the %d put", got.Len(), len(data))
	}
	blobs, err := s.List(ctx)
	if err != nil || len(blobs) != 1 || blobs[0] != (Blob{sum, int64(len(data))}) {
		t.Fatalf("list: %v %v", blobs, err)
	}
}

// TestNotFound: a blob the store lacks is cas.ErrNotFound, not a failure.
func TestNotFound(t *testing.T) {
	s, _ := newStore(t)
	_, sum := blob(10)
	err := s.Get(context.Background(), sum, io.Discard)
	if !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("get of a missing blob: %v, want cas.ErrNotFound", err)
	}
}

// TestWrongBlobNotStored: bytes that do not hash to the name, or are not
// as many as promised, fail the put, and nothing is left in the store,
// not even chunks.
func TestWrongBlobNotStored(t *testing.T) {
	s, obs := newStore(t)
	ctx := context.Background()
	data, sum := blob(300 << 10)
	other, _ := blob(300 << 10)
	for _, c := range []struct {
		what string
		r    io.Reader
		size int64
		want string
	}{
		{"other bytes", bytes.NewReader(other), -1, "hash to"},
		{"other bytes of the promised size", bytes.NewReader(other), int64(len(other)), "hash to"},
		{"fewer bytes than promised", bytes.NewReader(data[:1000]), int64(len(data)), "not the"},
		{"more bytes than promised", bytes.NewReader(data), 1000, "more than the 1000 bytes promised"},
	} {
		err := s.Put(ctx, sum, c.r, c.size)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: %v, want %q ... refused", c.what, err, c.want)
		}
		if err := s.Get(ctx, sum, io.Discard); !errors.Is(err, cas.ErrNotFound) {
			t.Errorf("%s: after the refused put, get: %v", c.what, err)
		}
		empty(t, obs)
	}
}

// TestForgedObject: an object whose bytes do not hash to its name (put
// by hand, or by a broken client) is refused on the way out, and a put
// of the right bytes replaces it.
func TestForgedObject(t *testing.T) {
	s, obs := newStore(t)
	ctx := context.Background()
	data, sum := blob(1000)
	if _, err := obs.PutBytes(ctx, "sha256-"+sum, []byte("not what the name says")); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, sum, io.Discard); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("get of a forged object: %v", err)
	}
	if err := s.Put(ctx, sum, bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := s.Get(ctx, sum, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("after the put of the right bytes: %v", err)
	}
}

// TestSizeBound: a blob over the bound is refused both ways, whether its
// size is told or only found while reading.
func TestSizeBound(t *testing.T) {
	s, obs := newStore(t)
	ctx := context.Background()
	data, sum := blob(1001)
	s.max = 1000
	for _, size := range []int64{1001, -1} {
		err := s.Put(ctx, sum, bytes.NewReader(data), size)
		if err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
			t.Errorf("put of 1001 bytes (size %d): %v", size, err)
		}
		empty(t, obs)
	}
	s.max = MaxBlob
	if err := s.Put(ctx, sum, bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	s.max = 1000
	if err := s.Get(ctx, sum, io.Discard); err == nil || !strings.Contains(err.Error(), "more than 1000") {
		t.Errorf("get of 1001 bytes: %v", err)
	}
}

// TestBadSum: a name that is not a sha256 is refused before the broker
// is asked.
func TestBadSum(t *testing.T) {
	s := New(nil, "nats://nowhere")
	for _, sum := range []string{"", "../../etc/passwd", strings.Repeat("a", 63), strings.Repeat("A", 64), "sha256-" + strings.Repeat("a", 64)} {
		if err := s.Get(context.Background(), sum, io.Discard); err == nil || !strings.Contains(err.Error(), "expected a sha256") {
			t.Errorf("get %q: %v", sum, err)
		}
		if err := s.Put(context.Background(), sum, strings.NewReader(""), 0); err == nil || !strings.Contains(err.Error(), "expected a sha256") {
			t.Errorf("put %q: %v", sum, err)
		}
	}
}

// TestWatchdog: a transfer nothing moves in is ended, and says why.
func TestWatchdog(t *testing.T) {
	ctx, _, stop := watchdog(context.Background(), 1)
	defer stop()
	<-ctx.Done()
	if err := cause(ctx, ctx.Err()); !strings.Contains(err.Error(), "nothing moved for") {
		t.Fatalf("cause: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string][2]string{
		"nats://broker.example:4222":              {"nats://broker.example:4222", "unit-content"},
		"nats://broker.example:4222/":             {"nats://broker.example:4222", "unit-content"},
		"tls://10.0.0.1:4222/debs":                {"tls://10.0.0.1:4222", "debs"},
		"nats://broker.example:4222/unit-content": {"nats://broker.example:4222", "unit-content"},
	} {
		server, bucket, err := ParseURL(in)
		if err != nil || server != want[0] || bucket != want[1] {
			t.Errorf("%s: %s %s %v, want %s %s", in, server, bucket, err, want[0], want[1])
		}
	}
	for _, bad := range []string{"https://cache.example", "nats://", "nats://h:4222/a/b", "nats://u:p@h:4222", "nats://h:4222?bucket=x", "/srv/cache"} {
		if _, _, err := ParseURL(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
