// Package fleettest holds what the fleet's tests share across its
// packages: a node's unit, as the agent sees it.
package fleettest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/unit-os/unit/api"
)

// UnitSocket serves h on a control socket of the test's and returns its
// path: a node's unit, as the agent sees it.
func UnitSocket(t *testing.T, h api.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "unit.sock")
	l, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go api.Serve(ctx, l, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return sock
}
