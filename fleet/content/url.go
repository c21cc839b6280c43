package content

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/unit-os/unit/fleet"
)

// ParseURL splits a content store's place as a user writes it
// (pkg.toml's caches, `unit-fleet content` arguments) into the broker's
// URL and the bucket: nats://HOST:4222 or tls://HOST:4222, optionally
// with the bucket as its path (nats://HOST:4222/unit-content; the
// default is fleet.ContentBucket).
func ParseURL(s string) (server, bucket string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("content store %q: %w", s, err)
	}
	if u.Scheme != "nats" && u.Scheme != "tls" {
		return "", "", fmt.Errorf("content store %q: expected nats://HOST:PORT[/BUCKET] or tls://HOST:PORT[/BUCKET]", s)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("content store %q: expected nats://HOST:PORT[/BUCKET] or tls://HOST:PORT[/BUCKET] (credentials go in --creds or $UNIT_FLEET_CREDS, not the URL)", s)
	}
	bucket = strings.Trim(u.Path, "/")
	if bucket == "" {
		bucket = fleet.ContentBucket
	}
	if !validBucket(bucket) {
		return "", "", fmt.Errorf("content store %q: bucket %q: expected letters, digits, - and _", s, bucket)
	}
	return u.Scheme + "://" + u.Host, bucket, nil
}

// validBucket is JetStream's rule for an object store's name.
func validBucket(b string) bool {
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return b != ""
}
