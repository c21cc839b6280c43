package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nkeys"
)

// OpenKey loads the nkey seed at path, of kind (operator, account,
// user), making it if it is missing: the authority's keys and a node's
// own.
func OpenKey(path string, kind nkeys.PrefixByte) (nkeys.KeyPair, error) {
	b, err := ReadSecret(path)
	if errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreatePair(kind)
		if err != nil {
			return nil, err
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, err
		}
		switch err := CreateSecret(path, append(seed, '\n')); {
		case err == nil:
			return kp, nil
		case errors.Is(err, os.ErrExist): // made beside us: theirs it is
			if b, err = ReadSecret(path); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else if err != nil {
		return nil, err
	}
	seed := bytes.TrimSpace(b)
	if p, _, err := nkeys.DecodeSeed(seed); err != nil || p != kind {
		return nil, fmt.Errorf("%s: holds no %s key", path, kind)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kp, nil
}
