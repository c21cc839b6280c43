package fleet

import (
	"fmt"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
)

// How an operator's creds connect: the operators' tools and the
// broker's own admin connection.

// OperatorOptions connect an operator's tools: a creds file (admin.creds
// or one from Authority.User), the fleet's CA, and the operator's own
// inbox prefix (OperatorInbox of the creds' key: a reader may subscribe
// there only, so no reader hears another operator's answers).
func OperatorOptions(credsPath, caPath string) []nats.Option {
	return []nats.Option{nats.UserCredentials(credsPath), nats.RootCAs(caPath), operatorInbox(credsPath)}
}

// operatorInbox sets the inbox prefix of the user of the creds at path.
func operatorInbox(path string) nats.Option {
	return func(o *nats.Options) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("creds %s: %w", path, err)
		}
		tok, err := jwt.ParseDecoratedJWT(b)
		if err != nil {
			return fmt.Errorf("creds %s: %w", path, err)
		}
		uc, err := jwt.DecodeUserClaims(tok)
		if err != nil {
			return fmt.Errorf("creds %s: %w", path, err)
		}
		return nats.CustomInboxPrefix(OperatorInbox(uc.Subject))(o)
	}
}
