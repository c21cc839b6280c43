package config

import "strings"

// Name checks by hand: each was a package-level regexp, compiled in every
// process that imports config, PID 1 included (most of the package's
// init), for shapes a loop over the bytes says as plainly. names_test.go
// holds each to its regexp.

// isAccountName: ^[a-z_][a-z0-9_-]*\$?$, account names as shadow-utils
// accepts them by default.
func isAccountName(s string) bool {
	s = strings.TrimSuffix(s, "$")
	if s == "" || !(isLower(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLower(c) && !isDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// isBareKey: ^[A-Za-z0-9_-]+$, a TOML bare key (and a module name).
func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBareKeyByte(s[i]) {
			return false
		}
	}
	return true
}

// isSysctlKey: ^[A-Za-z0-9_-]+([./][A-Za-z0-9_:-]+)*$, parts split by
// dots or slashes, a colon allowed after the first.
func isSysctlKey(s string) bool {
	part, first := 0, true // the current part's length; in the first part
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == '/':
			if part == 0 {
				return false
			}
			part, first = 0, false
		case isBareKeyByte(c) || (c == ':' && !first):
			part++
		default:
			return false
		}
	}
	return part > 0
}

func isBareKeyByte(c byte) bool {
	return isLower(c) || ('A' <= c && c <= 'Z') || isDigit(c) || c == '_' || c == '-'
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
