package config

import (
	"fmt"
	"strconv"
	"strings"
)

// UnknownAccounts lists the services whose user or group is neither
// declared ([user.NAME], [group.NAME]) nor in passwd/group (the contents
// of /etc/passwd and /etc/group of the system the config runs on). A
// numeric id is always accepted.
func UnknownAccounts(c *Config, passwd, group string) Errors {
	have := func(db, name string) bool {
		for _, line := range strings.Split(db, "\n") {
			if n, _, ok := strings.Cut(line, ":"); ok && n == name {
				return true
			}
		}
		return false
	}
	var errs Errors
	for _, s := range All[Service](c) {
		if u := s.User; u != "" && !isNumber(u) && c.Users[u] == nil && !have(passwd, u) {
			errs = append(errs, Error{s.At("user"), fmt.Sprintf("service.%s.user: user %q is not on this system: declare [user.%s]", s.Name, u, u)})
		}
		if g := s.Group; g != "" && !isNumber(g) && c.Groups[g] == nil && !have(group, g) {
			errs = append(errs, Error{s.At("group"), fmt.Sprintf("service.%s.group: group %q is not on this system: declare [group.%s]", s.Name, g, g)})
		}
	}
	return errs
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}
