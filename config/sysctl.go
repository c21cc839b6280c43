package config

import (
	"strings"
)

// Sysctl is one [sysctl."net.ipv4.ip_forward"] table; its name is the key.
type Sysctl struct {
	Meta
	Edges
	Value string `toml:"value"`
}

func validateSysctl(s *Sysctl) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &s.Meta, "sysctl")
	if !isSysctlKey(s.Name) || strings.Contains(s.Name, "..") {
		bad("", "invalid key: expected e.g. \"net.ipv4.ip_forward\"")
	}
	if strings.TrimSpace(s.Value) == "" {
		bad("value", "expected value = \"...\"")
	}
	return errs
}
