package cas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/unit-os/unit/safepath"
)

// Haser is a place that can say whether it holds a blob without sending
// it (a stat, a HEAD request).
type Haser interface {
	Has(ctx context.Context, sum string) (bool, error)
}

// Tried is one place Fetch asked and why it did not serve the blob.
type Tried struct {
	Place string
	Err   error
}

// FetchError lists every place tried, in order, with why each failed.
type FetchError struct {
	Sum   string
	Tried []Tried
}

func (e *FetchError) Error() string {
	parts := make([]string, len(e.Tried))
	for i, t := range e.Tried {
		parts[i] = t.Place
		if why := t.Err.Error(); t.Err != ErrNotFound && why != "" {
			parts[i] += " (" + why + ")"
		}
	}
	return "not found in: " + strings.Join(parts, "; ")
}

// Fetch writes the blob named sum to the file dst, from the first of srcs
// that holds it, and returns that place. The sha256 is computed while the
// bytes are written: a wrong blob is discarded (and reported) and the next
// place asked. dst appears whole or not at all. When every place fails the
// error is a *FetchError naming each with why.
func Fetch(ctx context.Context, srcs []Source, sum, dst string) (Source, error) {
	if err := checkSum(sum); err != nil {
		return nil, err
	}
	fe := &FetchError{Sum: sum}
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var srcErr error // the place's own answer, not the write's wrapping
		err := safepath.WriteFileFunc(dst, 0o644, -1, -1, func(f *os.File) error {
			h := sha256.New()
			if srcErr = s.Get(ctx, sum, io.MultiWriter(f, h)); srcErr != nil {
				return srcErr
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != sum {
				srcErr = &MismatchError{Want: sum, Got: got}
			}
			return srcErr
		}, safepath.Trusted())
		if err == nil {
			return s, nil
		}
		if srcErr == nil {
			srcErr = err // writing dst failed
		}
		fe.Tried = append(fe.Tried, Tried{Place: s.String(), Err: srcErr})
	}
	return nil, fe
}

// PutFile puts the file at path, named sum, to p.
func PutFile(ctx context.Context, p Putter, sum, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := p.Put(ctx, sum, f, st.Size()); err != nil {
		return fmt.Errorf("put %s to %s: %w", sum, p, err)
	}
	return nil
}

// Has asks the places that can answer cheaply (Haser) whether one holds
// the blob; the others are not asked.
func Has(ctx context.Context, srcs []Source, sum string) bool {
	for _, s := range srcs {
		if h, ok := s.(Haser); ok {
			if ok, err := h.Has(ctx, sum); err == nil && ok {
				return true
			}
		}
	}
	return false
}
