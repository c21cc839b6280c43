package content

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/fleet"
)

// Get streams the blob named sum to w (cas.Source), hashing as it goes:
// bytes that do not hash to sum, or more than the store's bound, end
// in an error (the caller, which checks the sum of what it was written,
// throws them away). A blob the store does not hold is an error
// wrapping cas.ErrNotFound.
func (s *Store) Get(ctx context.Context, sum string, w io.Writer) error {
	want, err := parseSum(sum)
	if err != nil {
		return err
	}
	ctx, poke, stop := watchdog(ctx, s.idle)
	defer stop()
	res, err := s.obs.Get(ctx, fleet.ContentName(want))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("%s: blob %s: %w", s.name, sum, cas.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: blob %s: %w", s.name, sum, cause(ctx, err))
	}
	defer res.Close()
	if info, err := res.Info(); err == nil && int64(info.Size) > s.max {
		return fmt.Errorf("%s: blob %s: %d bytes, more than %d bytes: refused", s.name, sum, info.Size, s.max)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), &poker{r: io.LimitReader(res, s.max+1), poke: poke})
	if err != nil {
		return fmt.Errorf("%s: blob %s: %w", s.name, sum, cause(ctx, err))
	}
	if n > s.max {
		return fmt.Errorf("%s: blob %s: more than %d bytes: refused", s.name, sum, s.max)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("%s: blob %s: its bytes hash to %s: refused", s.name, sum, hex.EncodeToString(got))
	}
	return nil
}

// poker reads r and pokes the watchdog each time bytes came.
type poker struct {
	r    io.Reader
	poke func()
}

func (p *poker) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.poke()
	}
	return n, err
}
