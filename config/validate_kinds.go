package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// Account names as shadow-utils accepts them by default.
	accountName = regexp.MustCompile(`^[a-z_][a-z0-9_-]*\$?$`)
	moduleName  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	sysctlKey   = regexp.MustCompile(`^[A-Za-z0-9_-]+([./][A-Za-z0-9_:-]+)*$`)
)

func isCleanAbs(p string) bool { return filepath.IsAbs(p) && filepath.Clean(p) == p }

// complainer builds errors for one resource, each at its key's line.
func complainer(errs *Errors, at func(string) Pos, what string) func(key, format string, args ...any) {
	return func(key, format string, args ...any) {
		*errs = append(*errs, Error{at(key), what + ": " + fmt.Sprintf(format, args...)})
	}
}

func checkEnsure(bad func(string, string, ...any), ensure *string, allowed ...string) {
	if *ensure == "" {
		*ensure = allowed[0]
		return
	}
	for _, a := range allowed {
		if *ensure == a {
			return
		}
	}
	bad("ensure", "ensure = %q: expected one of %s", *ensure, strings.Join(allowed, ", "))
}

func parseMode(bad func(string, string, ...any), mode string, def uint32) uint32 {
	if mode == "" {
		return def
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || m > 0o7777 {
		bad("mode", "mode = %q: expected an octal mode such as \"0755\"", mode)
		return def
	}
	return uint32(m)
}

func validateDir(d *Dir) Errors {
	var errs Errors
	bad := complainer(&errs, d.at, fmt.Sprintf("dir %q", d.Path))
	if !isCleanAbs(d.Path) || d.Path == "/" {
		bad("", "path must be absolute, clean and not / (e.g. \"/var/www\")")
	}
	checkEnsure(bad, &d.Ensure, "present", "absent")
	d.DirMode = parseMode(bad, d.Mode, 0o755)
	if d.Absent() && d.PurgeUnmanaged {
		bad("purge_unmanaged", "purge_unmanaged makes no sense with ensure = \"absent\"")
	}
	if d.Source != "" && !filepath.IsAbs(d.Source) && !strings.HasPrefix(d.Source, "package:") {
		bad("source", "source = %q: expected an absolute path or package:NAME/PATH", d.Source)
	}
	if d.Source != "" && d.Absent() {
		bad("source", "source makes no sense with ensure = \"absent\"")
	}
	return errs
}

func validateLink(l *Link) Errors {
	var errs Errors
	bad := complainer(&errs, l.at, fmt.Sprintf("link %q", l.Path))
	if !isCleanAbs(l.Path) {
		bad("", "path must be absolute and clean (e.g. \"/usr/bin/vi\")")
	}
	checkEnsure(bad, &l.Ensure, "present", "absent")
	if !l.Absent() && l.Target == "" {
		bad("", "expected target = \"PATH\"")
	}
	return errs
}

// noColon rejects what would break a colon-separated database line.
func noColon(bad func(string, string, ...any), key, v string) {
	if strings.ContainsAny(v, ":\n") {
		bad(key, "%s = %q: must not contain ':' or a newline", key, v)
	}
}

func validateUser(u *User) Errors {
	var errs Errors
	bad := complainer(&errs, u.at, fmt.Sprintf("user %q", u.Name))
	if !accountName.MatchString(u.Name) || len(u.Name) > 32 {
		bad("", "invalid user name: expected [a-z_][a-z0-9_-]*, at most 32 characters")
	}
	checkEnsure(bad, &u.Ensure, "present", "absent")
	if u.UID != nil && (*u.UID < 0 || *u.UID > 1<<31-2) {
		bad("uid", "uid = %d: expected 0..2147483646", *u.UID)
	}
	if u.Home != "" && !filepath.IsAbs(u.Home) {
		bad("home", "home = %q: expected an absolute path", u.Home)
	}
	if u.Shell != "" && !filepath.IsAbs(u.Shell) {
		bad("shell", "shell = %q: expected an absolute path", u.Shell)
	}
	for _, kv := range [][2]string{{"home", u.Home}, {"shell", u.Shell}, {"comment", u.Comment}, {"password", u.Password}, {"group", u.Group}} {
		noColon(bad, kv[0], kv[1])
	}
	for _, g := range u.Groups {
		if !accountName.MatchString(g) {
			bad("groups", "group %q: invalid group name", g)
		}
	}
	return errs
}

func validateGroup(g *Group) Errors {
	var errs Errors
	bad := complainer(&errs, g.at, fmt.Sprintf("group %q", g.Name))
	if !accountName.MatchString(g.Name) || len(g.Name) > 32 {
		bad("", "invalid group name: expected [a-z_][a-z0-9_-]*, at most 32 characters")
	}
	checkEnsure(bad, &g.Ensure, "present", "absent")
	if g.GID != nil && (*g.GID < 0 || *g.GID > 1<<31-2) {
		bad("gid", "gid = %d: expected 0..2147483646", *g.GID)
	}
	for _, m := range g.Members {
		if !accountName.MatchString(m) {
			bad("members", "member %q: invalid user name", m)
		}
	}
	return errs
}

func validateSysctl(s *Sysctl) Errors {
	var errs Errors
	bad := complainer(&errs, s.at, fmt.Sprintf("sysctl %q", s.Key))
	if !sysctlKey.MatchString(s.Key) || strings.Contains(s.Key, "..") {
		bad("", "invalid key: expected e.g. \"net.ipv4.ip_forward\"")
	}
	if strings.TrimSpace(s.Value) == "" {
		bad("value", "expected value = \"...\"")
	}
	return errs
}

func validateModule(m *Module) Errors {
	var errs Errors
	bad := complainer(&errs, m.at, fmt.Sprintf("module %q", m.Name))
	if !moduleName.MatchString(m.Name) {
		bad("", "invalid module name: expected e.g. \"virtio_net\"")
	}
	return errs
}

func validateMount(m *Mount) Errors {
	var errs Errors
	bad := complainer(&errs, m.at, fmt.Sprintf("mount %q", m.Path))
	if !isCleanAbs(m.Path) || m.Path == "/" {
		bad("", "mount point must be absolute, clean and not /")
	}
	checkEnsure(bad, &m.Ensure, "mounted", "unmounted")
	if m.Ensure == "mounted" {
		if m.Device == "" {
			bad("device", "expected device = \"...\" (a block device, or e.g. \"tmpfs\")")
		}
		if m.Type == "" {
			bad("type", "expected type = \"...\" (e.g. \"ext4\", \"tmpfs\")")
		}
	}
	return errs
}

const defaultExecTimeout = 5 * time.Minute

// DefaultStore is where kegs live unless a package names another store.
const DefaultStore = "/var/lib/unit/store"

func validatePackage(p *Package) Errors {
	var errs Errors
	bad := complainer(&errs, p.at, fmt.Sprintf("package %q", p.Name))
	if p.Name == "" || strings.ContainsAny(p.Name, "/\n") || p.Name == "." || p.Name == ".." {
		bad("", "invalid package name")
	}
	if strings.ContainsAny(p.Version, "/\n") {
		bad("version", "version = %q: must not contain '/'", p.Version)
	}
	if p.Store == "" {
		p.Store = DefaultStore
	} else if !isCleanAbs(p.Store) {
		bad("store", "store = %q: expected an absolute path", p.Store)
	}
	if p.Prefix == "" {
		p.Prefix = "/usr/local"
	} else if !isCleanAbs(p.Prefix) {
		bad("prefix", "prefix = %q: expected an absolute path", p.Prefix)
	}
	return errs
}

func validateExec(e *Exec) Errors {
	var errs Errors
	bad := complainer(&errs, e.at, fmt.Sprintf("exec %q", e.Name))
	if len(e.Command) == 0 || e.Command[0] == "" {
		bad("command", "expected command = [\"/bin/prog\", \"arg\"]")
	}
	if e.Creates != "" && !filepath.IsAbs(e.Creates) {
		bad("creates", "creates = %q: expected an absolute path", e.Creates)
	}
	if len(e.Unless) > 0 && e.Unless[0] == "" {
		bad("unless", "unless: expected a command as a list")
	}
	if e.Dir != "" && !filepath.IsAbs(e.Dir) {
		bad("dir", "dir = %q: expected an absolute path", e.Dir)
	}
	if e.Timeout.Duration == 0 {
		e.Timeout.Duration = defaultExecTimeout
	}
	return errs
}

// IsKind reports whether kind names a resource kind (the part of an id
// before the colon).
func IsKind(kind string) bool {
	switch kind {
	case "service", "file", "dir", "link", "user", "group", "sysctl", "module", "mount", "package", "exec", "net":
		return true
	}
	return false
}

// Has reports whether id ("KIND:NAME") is a defined resource.
func (c *Config) Has(id string) bool {
	kind, name, _ := strings.Cut(id, ":")
	switch kind {
	case "service":
		_, ok := c.Services[name]
		return ok
	case "file":
		_, ok := c.Files[name]
		return ok
	case "dir":
		_, ok := c.Dirs[name]
		return ok
	case "link":
		_, ok := c.Links[name]
		return ok
	case "user":
		_, ok := c.Users[name]
		return ok
	case "group":
		_, ok := c.Groups[name]
		return ok
	case "sysctl":
		_, ok := c.Sysctls[name]
		return ok
	case "module":
		_, ok := c.Modules[name]
		return ok
	case "mount":
		_, ok := c.Mounts[name]
		return ok
	case "package":
		_, ok := c.Packages[name]
		return ok
	case "exec":
		_, ok := c.Execs[name]
		return ok
	case "net":
		_, ok := c.Nets[name]
		return ok
	}
	return false
}

// Refreshable reports whether id names a kind that a notify can refresh.
func Refreshable(id string) bool {
	return strings.HasPrefix(id, "service:") || strings.HasPrefix(id, "exec:")
}
