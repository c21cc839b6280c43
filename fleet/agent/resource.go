package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
)

// An ad-hoc resource, as MCollective's `puppetral` or `puppet resource`:
// `unit-fleet resource 'user deploy uid=1100' --where role=web` applies
// one resource once on every matching node, with the engine's own code
// (validation with file:line, Check/Apply, the report), and does not
// keep it: the next desired state is still the config's. Services are
// refused: a service is kept by the supervisor, so it belongs in a
// layer.

// maxSpec bounds an ad-hoc resource's text.
const maxSpec = 4 << 10

// ParseResource turns `KIND NAME KEY=VALUE...` into a TOML table:
// integers and true/false keep their type, anything else (a mode such as
// 0640 too) is a string.
func ParseResource(spec string) ([]byte, error) {
	if len(spec) > maxSpec {
		return nil, fmt.Errorf("resource: %d bytes; at most %d", len(spec), maxSpec)
	}
	f := strings.Fields(spec)
	if len(f) < 2 {
		return nil, errors.New(`resource: expected KIND NAME [KEY=VALUE]..., e.g. "user deploy uid=1100"`)
	}
	kind, name := f[0], f[1]
	if !config.IsKind(kind) {
		return nil, fmt.Errorf("resource: %q is not a kind of resource", kind)
	}
	if kind == "service" {
		return nil, errors.New("resource: a service is kept by the supervisor: put it in a layer (unit-fleet put)")
	}
	attrs := map[string]any{}
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("resource: %q: expected KEY=VALUE", kv)
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && (v == "0" || !strings.HasPrefix(v, "0")) {
			attrs[k] = n
		} else if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
			attrs[k] = b
		} else {
			attrs[k] = v
		}
	}
	return toml.Marshal(map[string]map[string]map[string]any{kind: {name: attrs}})
}

// ApplyResource applies one ad-hoc resource once (or, dryRun, says what
// it would change) and returns the engine's report.
func ApplyResource(ctx context.Context, spec string, dryRun bool) (string, error) {
	b, err := ParseResource(spec)
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
