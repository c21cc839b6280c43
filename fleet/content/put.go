package content

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// Has says whether the store holds the blob named sum, whole: its
// object's meta says so (its digest is the name; of size bytes, unless
// size < 0).
func (s *Store) Has(ctx context.Context, sum string, size int64) (bool, error) {
	want, err := parseSum(sum)
	if err != nil {
		return false, err
	}
	info, err := s.obs.GetInfo(ctx, fleet.ContentName(want))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: blob %s: %w", s.name, sum, err)
	}
	return !info.Deleted && info.Digest == digest(want) && (size < 0 || int64(info.Size) == size), nil
}

// Put stores the blob named sum, size bytes (< 0: not known) read from r
// (cas.Putter), unless the store has it already (then r is not read).
// The bytes are hashed as they go, and the object's meta, which makes
// it visible, is written only after the last one, if they hash to sum:
// a wrong blob fails the put, its chunks are purged, and nothing is
// stored under the name. An object of that name whose bytes were wrong
// is replaced.
func (s *Store) Put(ctx context.Context, sum string, r io.Reader, size int64) error {
	want, err := parseSum(sum)
	if err != nil {
		return err
	}
	if size > s.max {
		return fmt.Errorf("%s: blob %s: %d bytes, more than %d bytes: refused", s.name, sum, size, s.max)
	}
	if ok, err := s.Has(ctx, sum, size); err != nil || ok {
		return err
	}
	ctx, poke, stop := watchdog(ctx, s.idle)
	defer stop()
	vr := &verifier{r: r, h: sha256.New(), want: want, size: size, max: s.max, poke: poke}
	if _, err := s.obs.Put(ctx, jetstream.ObjectMeta{Name: fleet.ContentName(want)}, vr); err != nil {
		return fmt.Errorf("%s: put blob %s: %w", s.name, sum, cause(ctx, err))
	}
	return nil
}

// verifier reads a blob for the object store's Put and, at its end,
// fails the read unless the bytes were what the name and size promise:
// Put then purges what it sent and writes no meta.
type verifier struct {
	r      io.Reader
	h      hash.Hash
	want   []byte
	n      int64
	size   int64
	max    int64
	poke   func()
	failed error
}

func (v *verifier) Read(b []byte) (int, error) {
	if v.failed != nil {
		return 0, v.failed
	}
	n, err := v.r.Read(b)
	if n > 0 {
		v.h.Write(b[:n])
		v.n += int64(n)
		v.poke()
	}
	switch {
	case v.n > v.max:
		v.failed = fmt.Errorf("more than %d bytes: refused", v.max)
	case v.size >= 0 && v.n > v.size:
		v.failed = fmt.Errorf("more than the %d bytes promised: refused", v.size)
	case err == io.EOF && v.size >= 0 && v.n != v.size:
		v.failed = fmt.Errorf("%d bytes, not the %d promised: refused", v.n, v.size)
	case err == io.EOF && !bytes.Equal(v.h.Sum(nil), v.want):
		v.failed = fmt.Errorf("its bytes hash to %s: refused", hex.EncodeToString(v.h.Sum(nil)))
	default:
		return n, err
	}
	return n, v.failed
}
