// Package ids gives the system users and groups an image makes their
// numbers: Debian's static ones (base-passwd) as Debian has them, every
// other one allocated once from the system range and pinned in a file
// beside the system's TOML, so the owners on a data partition stay right
// across rebuilds and updates. It knows names and numbers only (and
// writes its file through safepath).
package ids

// Account is a line of base-passwd's passwd.master.
type Account struct {
	Name        string
	UID, GID    int
	Gecos, Home string
	Shell       string
}

// staticUsers and staticGroups are Debian's static allocation, as
// base-passwd 3.6 ships it in /usr/share/base-passwd/{passwd,group}.master:
// the same numbers on every Debian system, so they are never pinned.
var staticUsers = []Account{
	{"root", 0, 0, "root", "/root", "/bin/sh"},
	{"daemon", 1, 1, "daemon", "/usr/sbin", "/usr/sbin/nologin"},
	{"bin", 2, 2, "bin", "/bin", "/usr/sbin/nologin"},
	{"sys", 3, 3, "sys", "/dev", "/usr/sbin/nologin"},
	{"sync", 4, 65534, "sync", "/bin", "/bin/sync"},
	{"games", 5, 60, "games", "/usr/games", "/usr/sbin/nologin"},
	{"man", 6, 12, "man", "/var/cache/man", "/usr/sbin/nologin"},
	{"lp", 7, 7, "lp", "/var/spool/lpd", "/usr/sbin/nologin"},
	{"mail", 8, 8, "mail", "/var/mail", "/usr/sbin/nologin"},
	{"news", 9, 9, "news", "/var/spool/news", "/usr/sbin/nologin"},
	{"uucp", 10, 10, "uucp", "/var/spool/uucp", "/usr/sbin/nologin"},
	{"proxy", 13, 13, "proxy", "/bin", "/usr/sbin/nologin"},
	{"www-data", 33, 33, "www-data", "/var/www", "/usr/sbin/nologin"},
	{"backup", 34, 34, "backup", "/var/backups", "/usr/sbin/nologin"},
	{"list", 38, 38, "Mailing List Manager", "/var/list", "/usr/sbin/nologin"},
	{"irc", 39, 39, "ircd", "/run/ircd", "/usr/sbin/nologin"},
	{"_apt", 42, 65534, "", "/nonexistent", "/usr/sbin/nologin"},
	{"nobody", 65534, 65534, "nobody", "/nonexistent", "/usr/sbin/nologin"},
}

// groupOrder is group.master's order, for positions.
var groupOrder = []string{"root", "daemon", "bin", "sys", "adm", "tty", "disk", "lp", "mail", "news", "uucp",
	"man", "proxy", "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape", "sudo", "audio", "dip",
	"www-data", "backup", "operator", "list", "irc", "src", "shadow", "utmp", "video", "sasl", "plugdev",
	"staff", "games", "users", "nogroup"}

// StaticUsers are base-passwd's users in passwd.master's order (line i+1).
func StaticUsers() []Account { return append([]Account(nil), staticUsers...) }

// StaticGroups are base-passwd's groups in group.master's order (line i+1).
func StaticGroups() []string { return append([]string(nil), groupOrder...) }

var staticGroups = map[string]int{
	"root": 0, "daemon": 1, "bin": 2, "sys": 3, "adm": 4, "tty": 5, "disk": 6, "lp": 7, "mail": 8,
	"news": 9, "uucp": 10, "man": 12, "proxy": 13, "kmem": 15, "dialout": 20, "fax": 21, "voice": 22,
	"cdrom": 24, "floppy": 25, "tape": 26, "sudo": 27, "audio": 29, "dip": 30, "www-data": 33,
	"backup": 34, "operator": 37, "list": 38, "irc": 39, "src": 40, "shadow": 42, "utmp": 43,
	"video": 44, "sasl": 45, "plugdev": 46, "staff": 50, "games": 60, "users": 100, "nogroup": 65534,
}

// StaticUser is Debian's static user of that name.
func StaticUser(name string) (Account, bool) {
	for _, a := range staticUsers {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// StaticGroup is the gid of Debian's static group of that name.
func StaticGroup(name string) (int, bool) {
	id, ok := staticGroups[name]
	return id, ok
}

func staticUID(id int) bool {
	for _, a := range staticUsers {
		if a.UID == id {
			return true
		}
	}
	return false
}

func staticGID(id int) bool {
	for _, g := range staticGroups {
		if g == id {
			return true
		}
	}
	return false
}
