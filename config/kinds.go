package config

// Edges are the keys every configuration-management resource shares:
// ordering, notification, and the audit and purge modes.
type Edges struct {
	// Requires lists ids ("dir:/srv", "user:www") converged before this one.
	Requires []string `toml:"requires"`
	// Notify lists ids refreshed after this one really changed: a service is
	// restarted, a refresh_only exec is run.
	Notify []string `toml:"notify"`
	// Audit reports drift without repairing it.
	Audit bool `toml:"audit"`
	// Purge removes the thing from the system when the resource is removed
	// from the config (the default leaves it in place).
	Purge bool `toml:"purge"`
}

// CM is the [cm] table: engine-wide settings.
type CM struct {
	// Audit = true reports drift everywhere without repairing anything.
	Audit bool `toml:"audit"`
	// Purge = true removes every resource dropped from the config.
	Purge bool `toml:"purge"`
	// Reports is how many convergence reports to keep (default 20).
	Reports int `toml:"reports"`
	Pos     Pos `toml:"-"`
}

// Dir is one [dir."PATH"] table.
type Dir struct {
	Edges
	Mode   string `toml:"mode"`
	Owner  string `toml:"owner"`
	Group  string `toml:"group"`
	Ensure string `toml:"ensure"` // present (default) | absent
	// PurgeUnmanaged removes entries in the directory that no resource manages.
	PurgeUnmanaged bool `toml:"purge_unmanaged"`
	// Source mirrors a directory tree into this one: files (content and
	// mode) and subdirectories; an absolute path or package:NAME/PATH.
	Source string `toml:"source"`

	Path    string `toml:"-"`
	Pos     Pos    `toml:"-"`
	DirMode uint32 `toml:"-"` // Mode parsed; 0755 when unset
	at      func(key string) Pos
}

// Link is one [link."PATH"] table: a symbolic link.
type Link struct {
	Edges
	Target string `toml:"target"`
	Ensure string `toml:"ensure"` // present (default) | absent

	Path string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// User is one [user.NAME] table: a line in /etc/passwd (and /etc/shadow).
type User struct {
	Edges
	UID      *int     `toml:"uid"`
	Group    string   `toml:"group"`  // primary group name or number; default: the group named like the user, else uid
	Groups   []string `toml:"groups"` // supplementary groups (the user is added to their member lists)
	Home     string   `toml:"home"`
	Shell    string   `toml:"shell"`
	Comment  string   `toml:"comment"`
	Password string   `toml:"password"` // crypt(3) hash for /etc/shadow; "" leaves it locked ("!")
	Ensure   string   `toml:"ensure"`   // present (default) | absent

	Name string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// Group is one [group.NAME] table: a line in /etc/group.
type Group struct {
	Edges
	GID     *int     `toml:"gid"`
	Members []string `toml:"members"`
	Ensure  string   `toml:"ensure"`

	Name string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// Sysctl is one [sysctl."net.ipv4.ip_forward"] table.
type Sysctl struct {
	Edges
	Value string `toml:"value"`

	Key string `toml:"-"`
	Pos Pos    `toml:"-"`
	at  func(key string) Pos
}

// Module is one [module.NAME] table: a kernel module kept loaded.
type Module struct {
	Edges

	Name string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// Mount is one [mount."/mnt/data"] table.
type Mount struct {
	Edges
	Device  string `toml:"device"` // what to mount: a device, "tmpfs", "proc", ...
	Type    string `toml:"type"`
	Options string `toml:"options"` // comma-separated, as in fstab
	Ensure  string `toml:"ensure"`  // mounted (default) | unmounted

	Path string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// Package is one [package.NAME] table: a keg linked into place.
type Package struct {
	Edges
	Version string `toml:"version"` // "1.2" or "1.2-HASH"; default: the only keg in the store
	Store   string `toml:"store"`   // default /var/lib/unit/store
	Prefix  string `toml:"prefix"`  // where the keg's files are linked; default /usr/local

	Name string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// Exec is one [exec.NAME] table: a command run to reach a state.
type Exec struct {
	Edges
	Command []string          `toml:"command"`
	Creates string            `toml:"creates"` // skip when this path exists
	Unless  []string          `toml:"unless"`  // skip when this command exits 0
	Env     map[string]string `toml:"env"`
	Dir     string            `toml:"dir"`
	Timeout Duration          `toml:"timeout"` // default 5m
	// RefreshOnly runs the command only when a resource that notifies it changed.
	RefreshOnly bool `toml:"refresh_only"`

	Name string `toml:"-"`
	Pos  Pos    `toml:"-"`
	at   func(key string) Pos
}

// Position of a key inside the resource's table (file:line), for errors
// found after loading, e.g. by the engine's cycle check.
func (d *Dir) At(key string) Pos     { return atOr(d.at, d.Pos, key) }
func (l *Link) At(key string) Pos    { return atOr(l.at, l.Pos, key) }
func (u *User) At(key string) Pos    { return atOr(u.at, u.Pos, key) }
func (g *Group) At(key string) Pos   { return atOr(g.at, g.Pos, key) }
func (s *Sysctl) At(key string) Pos  { return atOr(s.at, s.Pos, key) }
func (m *Module) At(key string) Pos  { return atOr(m.at, m.Pos, key) }
func (m *Mount) At(key string) Pos   { return atOr(m.at, m.Pos, key) }
func (p *Package) At(key string) Pos { return atOr(p.at, p.Pos, key) }
func (e *Exec) At(key string) Pos    { return atOr(e.at, e.Pos, key) }
func (f *File) At(key string) Pos    { return atOr(f.at, f.Pos, key) }

func atOr(at func(string) Pos, pos Pos, key string) Pos {
	if at == nil {
		return pos
	}
	return at(key)
}

// Absent reports whether the thing must not exist.
func (d *Dir) Absent() bool   { return d.Ensure == "absent" }
func (l *Link) Absent() bool  { return l.Ensure == "absent" }
func (u *User) Absent() bool  { return u.Ensure == "absent" }
func (g *Group) Absent() bool { return g.Ensure == "absent" }
