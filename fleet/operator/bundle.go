package operator

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/update"
)

// Bundle is an update bundle (unit image build --format update) on its
// way to the nodes: it goes once into the content store under its hash,
// and each node fetches it by that hash, checks its bytes against the
// name, and hands it to unit update pinned to the bundle's id, so a
// bundle is verified twice and trusted nowhere on the way.
type Bundle struct {
	Path string
	// ID is the bundle's id (update.Reader's), the nodes' pin.
	ID string
	// Content is its name in the content store, once Put.
	Content string
}

// OpenBundle reads the bundle at path far enough to know it is one, and
// its id; before any broker is asked.
func OpenBundle(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := update.NewReader(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Bundle{Path: path, ID: r.ID()}, nil
}

// Put stores the bundle in the fleet's content store (once: content
// already there is not sent again) and sets b.Content.
func (b *Bundle) Put(ctx context.Context, nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	obs, err := js.ObjectStore(ctx, fleet.ContentBucket)
	if err != nil {
		return fmt.Errorf("content store %s: %w", fleet.ContentBucket, err)
	}
	name, err := PutContent(ctx, obs, b.Path)
	if err != nil {
		return err
	}
	b.Content = name
	return nil
}

// Request asks the nodes to fetch the bundle Put and install it, pinned
// to its id; noReboot leaves the reboot into it for later.
func (b *Bundle) Request(noReboot bool) fleet.Request {
	return fleet.Request{Cmd: "update", Content: b.Content, SHA256: b.ID, NoReboot: noReboot}
}
