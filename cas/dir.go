package cas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/safepath"
)

// Dir is a directory of blobs named by their sha256, flat: the layout of
// $UNIT_CACHE/sources, so any download cache is a Dir, can be served by a
// static HTTP server (HTTP) or copied with rsync.
type Dir struct {
	Path  string
	Label string // the name in messages; default "dir PATH"
}

func (d Dir) String() string {
	if d.Label != "" {
		return d.Label + " " + d.Path
	}
	return "dir " + d.Path
}

// Get copies the blob to w.
func (d Dir) Get(ctx context.Context, sum string, w io.Writer) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(d.Path, sum))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, ctxReader{ctx, f})
	return err
}

// Has says whether the directory holds the blob, by a stat.
func (d Dir) Has(_ context.Context, sum string) (bool, error) {
	if err := checkSum(sum); err != nil {
		return false, err
	}
	_, err := os.Stat(filepath.Join(d.Path, sum))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Put stores the blob atomically: a temp file beside it renamed into
// place, none left behind on failure. The bytes are checked against sum
// on the way, so a Dir never holds a blob under a wrong name.
func (d Dir) Put(ctx context.Context, sum string, r io.Reader, size int64) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	return safepath.WriteFileFunc(filepath.Join(d.Path, sum), 0o644, -1, -1, func(f *os.File) error {
		return copyChecked(ctxReader{ctx, r}, f, sum)
	}, safepath.Trusted())
}

// ctxReader stops a long copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
