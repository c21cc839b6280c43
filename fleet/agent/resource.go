package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/fleet"
)

// An ad-hoc resource, as MCollective's `puppetral` or `puppet resource`:
// `unit-fleet resource 'user deploy uid=1100' --where role=web` applies
// one resource once on every matching node, with the engine's own code
// (validation with file:line, Check/Apply, the report), and does not
// keep it: the next desired state is still the config's. Services are
// refused: a service is kept by the supervisor, so it belongs in a
// layer.

// ApplyResource applies one ad-hoc resource once (or, dryRun, says what
// it would change) and returns the engine's report.
func ApplyResource(ctx context.Context, spec string, dryRun bool) (string, error) {
	b, err := fleet.ParseResource(spec)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "unit-fleet-resource-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "resource.toml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", err
	}
	cfg, err := config.LoadFiles(path)
	if err != nil {
		return "", fmt.Errorf("resource %q: %w", spec, err)
	}
	rep, err := cm.ApplyOnce(ctx, cfg, dryRun)
	if err != nil {
		return "", err
	}
	if rep.Failed > 0 {
		return rep.String(), fmt.Errorf("resource %q failed", spec)
	}
	return rep.String(), nil
}
