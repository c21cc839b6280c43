package syntax

import (
	"fmt"
	"strings"
)

// Specifiers are the values of the "%" specifiers the caller knows (the
// image builder: the target's directories, root's account). An empty
// field is a specifier with no value here, and using it is an error.
type Specifiers struct {
	RuntimeDir string // %t, /run for the system manager
	StateDir   string // %S, /var/lib
	CacheDir   string // %C, /var/cache
	LogsDir    string // %L, /var/log
	ConfigDir  string // %E, /etc
	TmpDir     string // %T, /tmp
	VarTmpDir  string // %V, /var/tmp
	User       string // %u, root for the system manager
	UID        string // %U
	Group      string // %g
	GID        string // %G
	Home       string // %h
	Shell      string // %s
	Host       string // %H
	ShortHost  string // %l
	MachineID  string // %m
	BootID     string // %b; at build time a placeholder (tmpfiles.d x lines name it)
	Arch       string // %a
}

// System is what the system manager gives these specifiers, less the
// host's identity (Host, MachineID, BootID, Arch), which the caller fills.
func System() Specifiers {
	return Specifiers{
		RuntimeDir: "/run", StateDir: "/var/lib", CacheDir: "/var/cache",
		LogsDir: "/var/log", ConfigDir: "/etc", TmpDir: "/tmp", VarTmpDir: "/var/tmp",
		User: "root", UID: "0", Group: "root", GID: "0", Home: "/root", Shell: "/bin/sh",
	}
}

// Lookup is the value of specifier c: an error if c is not one of these
// or its field is empty.
func (sp Specifiers) Lookup(c byte) (string, error) {
	m := map[byte]string{
		't': sp.RuntimeDir, 'S': sp.StateDir, 'C': sp.CacheDir, 'L': sp.LogsDir,
		'E': sp.ConfigDir, 'T': sp.TmpDir, 'V': sp.VarTmpDir, 'u': sp.User,
		'U': sp.UID, 'g': sp.Group, 'G': sp.GID, 'h': sp.Home, 's': sp.Shell,
		'H': sp.Host, 'l': sp.ShortHost, 'm': sp.MachineID, 'b': sp.BootID, 'a': sp.Arch,
	}
	v, ok := m[c]
	if !ok {
		return "", fmt.Errorf("unknown specifier %%%c", c)
	}
	if v == "" {
		return "", fmt.Errorf("specifier %%%c has no value here", c)
	}
	return v, nil
}

// Expand replaces every %X of s by lookup(X) and %% by %; a lone % at the
// end stays (specifier_printf). lookup's error (an unknown specifier, one
// with no value) is Expand's.
func Expand(s string, lookup func(byte) (string, error)) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, err := lookup(s[i])
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
