package operator

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/unit-os/unit/fleet"
)

// Expect is the nodes that should answer a fan-out filtered by where:
// those whose last status matches. None if the status bucket cannot be
// read (a development broker without it): Ask then waits by its window.
func Expect(ctx context.Context, nc *nats.Conn, where map[string]string) []string {
	kv, err := Bucket(ctx, nc, fleet.StatusBucket)
	if err != nil {
		return nil
	}
	known, err := ReadStatus(ctx, kv)
	if err != nil {
		return nil
	}
	return known.Expected(where)
}
