package ids

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/unit-os/unit/safepath"
)

// The system range, as Debian's adduser allocates it
// (FIRST_SYSTEM_UID..LAST_SYSTEM_UID in adduser.conf).
const (
	FirstSystem = 100
	LastSystem  = 999
)

// maxPins bounds a pin file: the system range holds 900 of each kind.
const maxPins = 2 * (LastSystem - FirstSystem + 1)

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*\$?$`)

// Pins are the ids of one system, as its pin file holds them.
type Pins struct {
	path   string
	users  map[string]int
	groups map[string]int
	// Added are the pins made since Load, "user NAME ID" each.
	Added []string
}

// Load reads a pin file; a missing one is an empty set (the first build).
// Lines are "user NAME ID" or "group NAME ID"; # starts a comment.
func Load(path string) (*Pins, error) {
	p := &Pins{path: path, users: map[string]int{}, groups: map[string]int{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(what string) error { return fmt.Errorf("%s:%d: %s", path, n, what) }
		if len(f) != 3 || (f[0] != "user" && f[0] != "group") {
			return nil, bad(`expected "user NAME ID" or "group NAME ID"`)
		}
		id, err := strconv.Atoi(f[2])
		if err != nil || id < FirstSystem || id > LastSystem {
			return nil, bad(fmt.Sprintf("id %q: expected %d..%d, the system range", f[2], FirstSystem, LastSystem))
		}
		if !nameRE.MatchString(f[1]) || len(f[1]) > 32 {
			return nil, bad(fmt.Sprintf("name %q: not a user or group name", f[1]))
		}
		m := p.users
		if f[0] == "group" {
			m = p.groups
		}
		if _, dup := m[f[1]]; dup {
			return nil, bad(fmt.Sprintf("%s %s pinned twice", f[0], f[1]))
		}
		for other, oid := range m {
			if oid == id {
				return nil, bad(fmt.Sprintf("%s %s has id %d, already %s's", f[0], f[1], id, other))
			}
		}
		if len(p.users)+len(p.groups) >= maxPins {
			return nil, bad("too many pins")
		}
		m[f[1]] = id
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return p, nil
}

// User is the uid of a system user: Debian's static one, the pinned one,
// or the lowest free id of the system range, pinned from now on. taken
// says whether an id is already used by the image (its base passwd).
func (p *Pins) User(name string, taken func(int) bool) (int, error) {
	if a, ok := StaticUser(name); ok {
		return a.UID, nil
	}
	return p.pin("user", name, p.users, staticUID, taken, 0)
}

// Group is the gid of a system group, as User. prefer is an id to take if
// it is free (a user's own group gets its uid, as adduser and sysusers do).
func (p *Pins) Group(name string, prefer int, taken func(int) bool) (int, error) {
	if id, ok := StaticGroup(name); ok {
		return id, nil
	}
	return p.pin("group", name, p.groups, staticGID, taken, prefer)
}

func (p *Pins) pin(kind, name string, m map[string]int, static, taken func(int) bool, prefer int) (int, error) {
	if id, ok := m[name]; ok {
		return id, nil
	}
	if !nameRE.MatchString(name) || len(name) > 32 {
		return 0, fmt.Errorf("%s %q: not a user or group name", kind, name)
	}
	used := map[int]bool{}
	for _, id := range m {
		used[id] = true
	}
	free := func(id int) bool { return !used[id] && !static(id) && (taken == nil || !taken(id)) }
	id := 0
	if prefer >= FirstSystem && prefer <= LastSystem && free(prefer) {
		id = prefer
	}
	for c := FirstSystem; id == 0 && c <= LastSystem; c++ {
		if free(c) {
			id = c
		}
	}
	if id == 0 {
		return 0, fmt.Errorf("%s %s: no free id left in %d..%d", kind, name, FirstSystem, LastSystem)
	}
	m[name] = id
	p.Added = append(p.Added, fmt.Sprintf("%s %s %d", kind, name, id))
	return id, nil
}

// Save writes the pin file when pins were added, sorted for diffs.
func (p *Pins) Save() error {
	if len(p.Added) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("# The ids unit image build gave the system users and groups the packages\n")
	b.WriteString("# declare. Keep this file with the system: a rebuild gives every name the\n")
	b.WriteString("# same id, so owners on the data partition stay right across updates.\n")
	for _, kind := range []string{"group", "user"} {
		m := p.users
		if kind == "group" {
			m = p.groups
		}
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s %d\n", kind, n, m[n])
		}
	}
	if err := safepath.WriteFile(p.path, []byte(b.String()), 0o644, -1, -1, safepath.Trusted()); err != nil {
		return fmt.Errorf("save %s: %w", p.path, err)
	}
	return nil
}
