package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/unit-os/unit/safepath"

	"github.com/unit-os/unit/fleet"
)

// Content by hash: update bundles (and whatever else nodes fetch whole)
// live in the object store ContentBucket under the name
// sha256-<hex of the content>, so a name is a promise a node checks: it
// streams the object into a file beside where it will be used, hashing
// as it goes, and takes it only if the hash is the name. Nothing else
// about the broker or the operator has to be trusted for the bytes.

// maxContent bounds what a node fetches (an update bundle is a kernel
// and a root: tens of MB; a slot is at most a few GB).
const maxContent = 8 << 30

var contentNameRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)

// FetchContent brings the content named name into dir (dir/name, mode
// 0600) and returns its path: a file already there is hashed again, not
// trusted; a fetched one is written to a temporary file, hashed as it
// comes, and renamed into place only if its hash is its name.
func FetchContent(ctx context.Context, obs jetstream.ObjectStore, name, dir string) (string, error) {
	if !contentNameRE.MatchString(name) {
		return "", fmt.Errorf("content %q: expected sha256-<64 hex digits>", name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if ok, _ := fileHasName(path, name); ok {
		return path, nil
	}
	res, err := obs.Get(ctx, name)
	if err != nil {
		return "", fmt.Errorf("content %s: %w", name, err)
	}
	defer res.Close()
	err = safepath.WriteFileFunc(path, 0o600, -1, -1, func(tmp *os.File) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(res, maxContent+1))
		if err != nil {
			return fmt.Errorf("content %s: %w", name, err)
		}
		if n > maxContent {
			return fmt.Errorf("content %s: larger than %d bytes", name, int64(maxContent))
		}
		if got := fleet.ContentName(h.Sum(nil)); got != name {
			return fmt.Errorf("content %s: its bytes hash to %s: refused", name, got)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return path, nil
}

// fileHasName says whether the regular file at path hashes to name.
func fileHasName(path, name string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false, errors.New("not a regular file")
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return fleet.ContentName(h.Sum(nil)) == name, nil
}
