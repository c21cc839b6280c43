package config

import (
	"regexp"
	"strings"
)

var sysctlKey = regexp.MustCompile(`^[A-Za-z0-9_-]+([./][A-Za-z0-9_:-]+)*$`)

// Sysctl is one [sysctl."net.ipv4.ip_forward"] table; its name is the key.
type Sysctl struct {
	Meta
	Edges
	Value string `toml:"value"`
}

func validateSysctl(s *Sysctl) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &s.Meta, "sysctl")
	if !sysctlKey.MatchString(s.Name) || strings.Contains(s.Name, "..") {
		bad("", "invalid key: expected e.g. \"net.ipv4.ip_forward\"")
	}
	if strings.TrimSpace(s.Value) == "" {
		bad("value", "expected value = \"...\"")
	}
	return errs
}
