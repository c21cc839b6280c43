package operator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
)

// Filter is the --where conditions, K=V each.
func Filter(where []string) (map[string]string, error) {
	w := map[string]string{}
	for _, c := range where {
		k, v, ok := strings.Cut(c, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--where %q: want K=V", c)
		}
		w[k] = v
	}
	return w, nil
}

// Connect reaches the broker at url with the operator's credentials
// (creds) and CA (ca; "": ca.pem beside the creds), and returns the
// signer of its requests; a plain nats:// URL may go without creds (a
// development broker on loopback), and then signs nothing.
func Connect(url, creds, ca string) (*nats.Conn, *fleet.Signer, error) {
	opts := []nats.Option{nats.Name("unit-fleet operator")}
	var sg *fleet.Signer
	if _, err := os.Stat(creds); err == nil {
		s, err := fleet.LoadSigner(creds)
		if err != nil {
			return nil, nil, err
		}
		sg = s
		if ca == "" {
			ca = filepath.Join(filepath.Dir(creds), "ca.pem")
		}
		opts = append(opts, fleet.OperatorOptions(creds, ca)...)
	} else if !strings.HasPrefix(url, "nats://") {
		return nil, nil, fmt.Errorf("credentials %s: %w (unit-fleet user makes them; --creds or $UNIT_FLEET_CREDS)", creds, err)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", url, err)
	}
	return nc, sg, nil
}

// Bucket opens a KV bucket.
func Bucket(ctx context.Context, nc *nats.Conn, name string) (jetstream.KeyValue, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("bucket %s: not found (is this the fleet's broker? unit-fleet serve makes it)", name)
	}
	return kv, err
}
