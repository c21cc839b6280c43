// Package cas fetches and stores blobs by their sha256 from an ordered list
// of places: directories, HTTP caches, and helper programs for schemes unit
// does not speak itself (the fleet's JetStream object store, through
// unit-fleet). Nothing a place returns is trusted: every blob is checked
// against its name before anyone sees it.
package cas

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is what a Source returns for a blob it does not hold, as
// opposed to a failure to ask.
var ErrNotFound = errors.New("not found")

// Source is one place blobs can come from.
type Source interface {
	// String names the place in errors and progress lines
	// ("dir /srv/cache", "https://cache.example/unit", ...).
	String() string
	// Get writes the blob named sum (64 lower-case hex digits) to w, or
	// returns an error wrapping ErrNotFound when the place does not hold it.
	// The caller checks the sha256 of what was written.
	Get(ctx context.Context, sum string, w io.Writer) error
}

// Putter is a place blobs can also be written to (write-through, push).
type Putter interface {
	Source
	// Put stores the blob named sum, size bytes read from r. The caller
	// has checked the sum; a place stores it atomically or not at all.
	Put(ctx context.Context, sum string, r io.Reader, size int64) error
}
