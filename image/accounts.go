package image

import (
	"errors"

	"github.com/unit-os/unit/config"
)

// checkAccounts fails the build when a service runs as a user or group
// that the image will not have: neither declared in the system nor in
// the base /etc/passwd and /etc/group.
func checkAccounts(cfg *config.Config, base []entry) error {
	var passwd, group string
	for _, e := range base {
		switch e.Name {
		case "etc/passwd":
			passwd = string(e.Data)
		case "etc/group":
			group = string(e.Data)
		}
	}
	if errs := config.UnknownAccounts(cfg, passwd, group); len(errs) > 0 {
		return errors.Join(errs)
	}
	return nil
}
