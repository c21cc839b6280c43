package fleet

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/unit-os/unit/config"
)

// An ad-hoc resource's text, `KIND NAME KEY=VALUE...`: an operator's
// command checks it before it asks, a node parses it again before it
// applies it (agent.ApplyResource).

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
