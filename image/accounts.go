package image

import (
	"errors"

	"github.com/unit-os/unit/config"
)

// checkAccounts fails the build when a service runs as a user or group
// that the image will not have: neither declared in the system nor in
// the base /etc/passwd and /etc/group. cfg is the config with what the
// packages declare (declare), so their users count.
func checkAccounts(cfg *config.Config, base []entry) error {
	passwd, group := accountDBs(base)
	if errs := config.UnknownAccounts(cfg, passwd, group); len(errs) > 0 {
		return errors.Join(errs)
	}
	return nil
}
