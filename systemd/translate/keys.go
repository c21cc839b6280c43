package translate

import (
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
	"github.com/unit-os/unit/systemd/unitfile"
)

// builder makes the service and its notes.
type builder struct {
	s     *config.Service
	notes []config.Note
}

func (b *builder) at(key string, p config.Pos) { b.s.Declare(key, p) }

func (b *builder) note(p config.Pos, key, format string, args ...any) {
	b.notes = append(b.notes, config.Note{Pos: p, Key: key, Why: fmt.Sprintf(format, args...)})
}

// translate maps the typed unit onto a config.Service (docs/debian.md has
// the table). file is the unit file, for the errors of the unit as a
// whole; root is read for a "~" working directory's home.
func translate(u *unitfile.Service, file string, root *os.Root) (*config.Service, []config.Note, error) {
	b := &builder{s: &config.Service{}}
	b.s.Pos = config.Pos{File: file, Line: 1}
	oneshot := u.Type.V == "oneshot"
	if err := b.exec(u, oneshot); err != nil {
		return nil, nil, err
	}
	b.kind(u, oneshot)
	b.credentials(u, root)
	b.environment(u)
	b.dirs(u)
	b.restart(u)
	b.stopping(u, oneshot)
	b.limits(u)
	b.requires(u)
	b.sandbox(u)
	b.rest(u)
	slices.SortStableFunc(b.notes, func(x, y config.Note) int {
		if x.Pos.File != y.Pos.File {
			return strings.Compare(x.Pos.File, y.Pos.File)
		}
		return x.Pos.Line - y.Pos.Line
	})
	return b.s, b.notes, nil
}

// kind: Type= and what goes with it.
func (b *builder) kind(u *unitfile.Service, oneshot bool) {
	t := u.Type
	switch t.V {
	case "simple", "exec":
		b.s.Ready = "started"
	case "notify", "notify-reload":
		b.s.Ready = "notify"
		if t.V == "notify-reload" {
			b.note(t.Pos, "Type", "notify-reload: readiness by sd_notify is honoured, reloading by signal is not")
		}
	case "forking":
		b.s.Ready = "forking"
		if u.PIDFile.Set() {
			b.s.PIDFile = u.PIDFile.V
			b.at("pid_file", u.PIDFile.Pos)
		} else {
			b.note(t.Pos, "Type", "forking without PIDFile=: unit cannot tell which process is the daemon")
		}
	case "oneshot":
		b.s.Oneshot = true
		b.at("oneshot", t.Pos)
		if u.RemainAfterExit.V {
			b.s.RemainAfterExit = true
			b.at("remain_after_exit", u.RemainAfterExit.Pos)
		}
	case "dbus", "idle":
		b.s.Ready = "started"
		b.note(t.Pos, "Type", "%s: ready once started (Type=simple)", t.V)
	}
	if t.Set() && b.s.Ready != "" {
		b.at("ready", t.Pos)
	}
	if u.PIDFile.Set() && t.V != "forking" {
		b.note(u.PIDFile.Pos, "PIDFile", "only Type=forking reads it")
	}
	if u.RemainAfterExit.V && !oneshot {
		b.note(u.RemainAfterExit.Pos, "RemainAfterExit", "only a oneshot remains after it exited")
	}
}

// credentials: User, Group, SupplementaryGroups, WorkingDirectory,
// AmbientCapabilities, NoNewPrivileges.
func (b *builder) credentials(u *unitfile.Service, root *os.Root) {
	if u.User.Set() {
		b.s.User = u.User.V
		b.at("user", u.User.Pos)
	}
	if u.Group.Set() {
		b.s.Group = u.Group.V
		b.at("group", u.Group.Pos)
	}
	for i, g := range u.SupplementaryGroups {
		b.s.Groups = append(b.s.Groups, g.V)
		if i == 0 {
			b.at("groups", g.Pos)
		}
	}
	if u.DynamicUser.V {
		b.note(u.DynamicUser.Pos, "DynamicUser", "no transient users: the service runs as User= (root if unset)")
	}
	if w := u.WorkingDirectory; w.Set() {
		d, optional := strings.CutPrefix(w.V, "-")
		if d == "~" {
			d = home(root, u.User.V)
		}
		switch {
		case d == "":
			b.note(w.Pos, "WorkingDirectory", "~: the home of %s is not in /etc/passwd", u.User.V)
		default:
			b.s.Dir = d
			b.at("dir", w.Pos)
			if optional {
				b.note(w.Pos, "WorkingDirectory", `"-": a missing directory fails the start`)
			}
		}
	}
	if len(u.AmbientCapabilities) > 0 {
		caps := unitfile.Caps(u.AmbientCapabilities, nil)
		for c, on := range caps {
			if on {
				b.s.Capabilities = append(b.s.Capabilities, c)
			}
		}
		slices.Sort(b.s.Capabilities)
		b.at("capabilities", u.AmbientCapabilities[0].Pos)
	}
	if u.NoNewPrivileges.V {
		b.s.NoNewPrivs = true
		b.at("no_new_privs", u.NoNewPrivileges.Pos)
	}
}

// home is user's home directory in root's /etc/passwd ("/root" for root
// or no user), "" if not found.
func home(root *os.Root, user string) string {
	if user == "" || user == "root" || user == "0" {
		return "/root"
	}
	data, err := root.ReadFile("etc/passwd")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 6 && (f[0] == user || f[2] == user) {
			return f[5]
		}
	}
	return ""
}

// environment: Environment= (later wins) and EnvironmentFile=.
func (b *builder) environment(u *unitfile.Service) {
	for i, v := range u.Environment {
		if b.s.Env == nil {
			b.s.Env = map[string]string{}
		}
		b.s.Env[v.Name] = v.Value
		if i == 0 {
			b.at("env", v.Pos)
		}
	}
	for i, f := range u.EnvironmentFiles {
		p := f.V.Path
		if f.V.Optional {
			p = "-" + p
		}
		b.s.EnvFiles = append(b.s.EnvFiles, p)
		if i == 0 {
			b.at("env_files", f.Pos)
		}
	}
}

// dirs: RuntimeDirectory= and its kin with their modes.
func (b *builder) dirs(u *unitfile.Service) {
	d := &b.s.Dirs
	first := config.Pos{}
	for _, l := range []struct {
		key  string
		vals []unitfile.Val[string]
		mode unitfile.Val[os.FileMode]
		dst  *[]string
		dm   *string
	}{
		{"RuntimeDirectory", u.RuntimeDirectory, u.RuntimeDirectoryMode, &d.Runtime, &d.RuntimeMode},
		{"StateDirectory", u.StateDirectory, u.StateDirectoryMode, &d.State, &d.StateMode},
		{"CacheDirectory", u.CacheDirectory, u.CacheDirectoryMode, &d.Cache, &d.CacheMode},
		{"LogsDirectory", u.LogsDirectory, u.LogsDirectoryMode, &d.Logs, &d.LogsMode},
	} {
		for _, v := range l.vals {
			name, link, ok := strings.Cut(v.V, ":")
			if ok {
				b.note(v.Pos, l.key, "the link %s to %s is not made", link, name)
			}
			*l.dst = append(*l.dst, name)
			if first.Line == 0 {
				first = v.Pos
			}
		}
		if l.mode.Set() {
			*l.dm = fmt.Sprintf("%04o", uint32(l.mode.V.Perm()))
			if first.Line == 0 {
				first = l.mode.Pos
			}
		}
	}
	if first.Line > 0 {
		b.at("dirs", first)
	}
	for _, v := range u.ConfigurationDirectory {
		b.note(v.Pos, "ConfigurationDirectory", "/etc/%s is not made: the package or a [dir] makes it", v.V)
	}
	if p := u.RuntimeDirectoryPreserve; p.Set() && p.V != "no" {
		b.note(p.Pos, "RuntimeDirectoryPreserve", "the runtime directories are removed when the service stops")
	}
}

// restart: Restart= onto always, on-failure, never (the nearest, noted).
func (b *builder) restart(u *unitfile.Service) {
	r := u.Restart
	if !r.Set() {
		return
	}
	switch r.V {
	case "always":
		b.s.Restart = config.RestartAlways
	case "on-failure":
		b.s.Restart = config.RestartOnFailure
	case "no":
		b.s.Restart = config.RestartNever
	case "on-abnormal", "on-abort", "on-watchdog":
		b.s.Restart = config.RestartOnFailure
		b.note(r.Pos, "Restart", "%s: restarted on any failure (restart = \"on-failure\"), a non-zero exit included", r.V)
	case "on-success":
		b.s.Restart = config.RestartAlways
		b.note(r.Pos, "Restart", "on-success: restarted after a failure too (restart = \"always\")")
	}
	b.at("restart", r.Pos)
	if u.RestartSec.Set() {
		b.note(u.RestartSec.Pos, "RestartSec", "unit waits its own back-off between restarts")
	}
}

// stopping: KillMode, KillSignal, TimeoutStopSec, TimeoutStartSec.
func (b *builder) stopping(u *unitfile.Service, oneshot bool) {
	if k := u.KillMode; k.Set() {
		if k.V == "none" {
			b.note(k.Pos, "KillMode", "none: the service's processes are killed when it stops")
		} else {
			b.s.KillMode = k.V
			b.at("kill_mode", k.Pos)
		}
	}
	if k := u.KillSignal; k.Set() {
		name := strings.TrimPrefix(strings.ToUpper(k.V), "SIG")
		if _, ok := config.Signals[name]; ok {
			b.s.StopSignal = "SIG" + name
			b.at("stop_signal", k.Pos)
		} else {
			b.note(k.Pos, "KillSignal", "%s: unit stops services with SIGTERM, SIGINT, SIGQUIT, SIGHUP and a few more; SIGTERM is sent", k.V)
		}
	}
	if t := u.TimeoutStopSec; t.Set() {
		if t.V == 0 || t.V == syntax.Infinity {
			b.note(t.Pos, "TimeoutStopSec", "no limit: unit waits its default before SIGKILL")
		} else {
			b.s.StopTimeout = config.Duration{Duration: t.V}
			b.at("stop_timeout", t.Pos)
		}
	}
	if t := u.TimeoutStartSec; t.Set() {
		switch {
		case oneshot:
			b.note(t.Pos, "TimeoutStartSec", "a oneshot runs as long as it takes")
		case t.V == 0 || t.V == syntax.Infinity:
			// No limit: unit's default readiness wait applies.
			b.note(t.Pos, "TimeoutStartSec", "no limit: unit waits its default for readiness")
		default:
			b.s.ReadyTimeout = config.Duration{Duration: t.V}
			b.at("ready_timeout", t.Pos)
		}
	}
}

// limits: LimitNOFILE= and the other Limit*= keys onto rlimits.
func (b *builder) limits(u *unitfile.Service) {
	set := func(name string, v int64, p config.Pos) {
		if b.s.Rlimits == nil {
			b.s.Rlimits = map[string]int64{}
			b.at("rlimits", p)
		}
		b.s.Rlimits[name] = v
	}
	if l := u.LimitNOFILE; l.Set() {
		v := int64(l.V.Hard)
		if l.V.HardUnlimited || v < 0 {
			v = -1
		}
		if l.V.Soft != l.V.Hard || l.V.SoftUnlimited != l.V.HardUnlimited {
			b.note(l.Pos, "LimitNOFILE", "one value for soft and hard: both are the hard limit")
		}
		set("nofile", v, l.Pos)
	}
	for _, key := range slices.Sorted(maps.Keys(u.Limits)) {
		l := u.Limits[key]
		v, ok := plainLimit(l.V)
		if !ok {
			b.note(l.Pos, key, "%q: unit takes a count or infinity, the same for soft and hard", l.V)
			continue
		}
		set(strings.ToLower(strings.TrimPrefix(key, "Limit")), v, l.Pos)
	}
}

// plainLimit reads "N" or "infinity" (-1).
func plainLimit(s string) (int64, bool) {
	if s == "infinity" {
		return -1, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// requires: a service this one Requires=, Wants= or BindsTo= and orders
// itself After= is one it requires (the loader keeps those the config
// has). Targets, sockets and the like mean nothing here.
func (b *builder) requires(u *unitfile.Service) {
	after := map[string]bool{}
	for _, a := range u.After {
		after[a.V] = true
	}
	seen := map[string]bool{}
	for _, l := range [][]unitfile.Val[string]{u.Requires, u.Wants, u.BindsTo} {
		for _, v := range l {
			name, ok := strings.CutSuffix(v.V, ".service")
			if !ok || !after[v.V] || seen[name] {
				continue
			}
			seen[name] = true
			if len(b.s.Requires) == 0 {
				b.at("requires", v.Pos)
			}
			b.s.Requires = append(b.s.Requires, "service:"+name)
		}
	}
	for _, v := range u.Conflicts {
		if strings.HasSuffix(v.V, ".service") {
			b.note(v.Pos, "Conflicts", "%s may run beside it", v.V)
		}
	}
}

// sandbox: the namespace keys unit honours (config/service_ns.go); the
// root directory and the capability bounding set, listed.
func (b *builder) sandbox(u *unitfile.Service) {
	if u.PrivateTmp.V {
		b.s.PrivateTmp = true
		b.at("private_tmp", u.PrivateTmp.Pos)
	}
	for _, v := range []struct {
		key string
		val unitfile.Val[string]
		dst *string
	}{{"protect_system", u.ProtectSystem, &b.s.ProtectSystem}, {"protect_home", u.ProtectHome, &b.s.ProtectHome}} {
		if v.val.Set() && v.val.V != "no" {
			*v.dst = v.val.V
			b.at(v.key, v.val.Pos)
		}
	}
	for _, l := range []struct {
		key, name string
		vals      []unitfile.Val[string]
		dst       *[]string
	}{{"read_write_paths", "ReadWritePaths", u.ReadWritePaths, &b.s.ReadWritePaths}, {"read_only_paths", "ReadOnlyPaths", u.ReadOnlyPaths, &b.s.ReadOnlyPaths}} {
		for _, v := range l.vals {
			b.nsPath(l.key, l.name, v, u.RootDirectory.Set(), l.dst)
		}
	}
	for _, l := range []struct {
		key, name string
		vals      []unitfile.Val[string]
		dst       *[]string
	}{{"bind_paths", "BindPaths", u.BindPaths, &b.s.BindPaths}, {"bind_read_only_paths", "BindReadOnlyPaths", u.BindReadOnlyPaths, &b.s.BindReadOnlyPaths}} {
		for _, v := range l.vals {
			if strings.Contains(v.V, `\`) {
				b.note(v.Pos, l.name, "%s: a path with an escape (\\:) is not bound", v.V)
				continue
			}
			if _, err := config.ParseBind(v.V); err != nil {
				b.note(v.Pos, l.name, "%s: %v", v.V, err)
				continue
			}
			if len(*l.dst) == 0 {
				b.at(l.key, v.Pos)
			}
			*l.dst = append(*l.dst, v.V)
		}
	}
	if r := u.RootDirectory; r.Set() {
		b.note(r.Pos, "RootDirectory", "the service runs in the image's root, not %s", r.V)
	}
	for _, c := range u.CapabilityBoundingSet {
		b.note(c.Pos, "CapabilityBoundingSet", "the bounding set is not narrowed")
	}
	for _, c := range u.ExecStop {
		b.note(c.Pos, "ExecStop", "unit stops the service with stop_signal, not %s", c.Path)
	}
	for _, c := range u.ExecReload {
		b.note(c.Pos, "ExecReload", "a reload restarts the service; %s is not run", c.Path)
	}
}

// quiet are keys that change nothing a running service sees: what the
// unit is, how it is installed, systemd's own implicit dependencies.
var quiet = map[string]bool{
	"Unit.DefaultDependencies": true, "Unit.IgnoreOnIsolate": true, "Unit.AllowIsolate": true,
	"Unit.RefuseManualStart": true, "Unit.RefuseManualStop": true,
	"Install.RequiredBy": true, "Install.Also": true, "Install.DefaultInstance": true, "Install.UpheldBy": true,
}

// output are StandardOutput=/StandardError= values unit gives anyway:
// the service's output goes to its log.
var output = map[string]bool{"journal": true, "syslog": true, "inherit": true, "kmsg": true,
	"journal+console": true, "syslog+console": true, "kmsg+console": true}

// nsPath adds a ReadWritePaths=, ReadOnlyPaths= or InaccessiblePaths=
// path: "-" (may be missing) kept, "+" (relative to RootDirectory=)
// dropped, as there is no root directory but "/".
func (b *builder) nsPath(key, name string, v unitfile.Val[string], rootDir bool, dst *[]string) {
	p, optional := v.V, false
	for len(p) > 0 && (p[0] == '-' || p[0] == '+') {
		optional = optional || p[0] == '-'
		p = p[1:]
	}
	if rootDir && strings.Contains(v.V[:len(v.V)-len(p)], "+") {
		b.note(v.Pos, name, "%s: \"+\" is relative to the image's root, not RootDirectory=", v.V)
	}
	if !strings.HasPrefix(p, "/") {
		b.note(v.Pos, name, "%q: expected an absolute path", v.V)
		return
	}
	p = path.Clean(p)
	if optional {
		p = "-" + p
	}
	if len(*dst) == 0 {
		b.at(key, v.Pos)
	}
	*dst = append(*dst, p)
}

// rest: the keys the typed view does not know; UMask=, WatchdogSec= and
// InaccessiblePaths= are honoured, everything else listed.
func (b *builder) rest(u *unitfile.Service) {
	for _, k := range u.Unsupported {
		switch id := k.Section + "." + k.Name; {
		case quiet[id]:
		case id == "Service.StandardOutput" || id == "Service.StandardError":
			if !output[k.Value] {
				b.note(k.Pos, k.Name, "%s: the output goes to the service's log", k.Value)
			}
		case id == "Service.UMask":
			if v, err := strconv.ParseUint(k.Value, 8, 32); err == nil && v <= 0o777 {
				b.s.Umask = fmt.Sprintf("%04o", v)
				b.at("umask", k.Pos)
			} else {
				b.note(k.Pos, k.Name, "%q: expected an octal mask", k.Value)
			}
		case id == "Service.InaccessiblePaths":
			if k.Value == "" {
				b.s.InaccessiblePaths = nil
				continue
			}
			words, err := syntax.Words(k.Value, syntax.Unquote)
			if err != nil {
				b.note(k.Pos, k.Name, "%v", err)
				continue
			}
			for _, w := range words {
				b.nsPath("inaccessible_paths", k.Name, unitfile.Val[string]{V: w, Pos: k.Pos}, u.RootDirectory.Set(), &b.s.InaccessiblePaths)
			}
		case id == "Service.WatchdogSec":
			d, err := syntax.ParseTimespan(k.Value)
			switch {
			case err != nil:
				b.note(k.Pos, k.Name, "%v", err)
			case d == 0 || d == syntax.Infinity:
			case b.s.Ready != "notify":
				b.note(k.Pos, k.Name, "a watchdog needs Type=notify")
			default:
				b.s.Watchdog = config.Duration{Duration: d.Round(time.Millisecond)}
				b.at("watchdog", k.Pos)
			}
		default:
			b.note(k.Pos, k.Name, "unit has no such setting")
		}
	}
}
