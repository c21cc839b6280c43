package cm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/unit-os/unit/safepath"
)

// accountDB is one colon-separated database (/etc/passwd, /etc/group,
// /etc/shadow) held as lines, so that lines we do not manage are written
// back byte for byte.
type accountDB struct {
	path  string
	lines []string
	mode  os.FileMode
	uid   int
	gid   int
	found bool // the file existed
}

// readDB reads path; a missing file is an empty database (mode for a new
// one comes from newMode).
func readDB(path string, newMode os.FileMode) (*accountDB, error) {
	db := &accountDB{path: path, mode: newMode, uid: -1, gid: -1}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return db, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	db.found = true
	if fi, err := os.Stat(path); err == nil {
		db.mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			db.uid, db.gid = int(st.Uid), int(st.Gid)
		}
	}
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	if s != "" {
		db.lines = strings.Split(s, "\n")
	}
	return db, nil
}

// get returns the fields of name's line, or nil.
func (db *accountDB) get(name string) []string {
	if i := db.index(name); i >= 0 {
		return strings.Split(db.lines[i], ":")
	}
	return nil
}

func (db *accountDB) index(name string) int {
	prefix := name + ":"
	for i, l := range db.lines {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

// set replaces name's line, or appends it; it reports whether anything changed.
func (db *accountDB) set(name string, fields []string) bool {
	line := strings.Join(fields, ":")
	if i := db.index(name); i >= 0 {
		if db.lines[i] == line {
			return false
		}
		db.lines[i] = line
		return true
	}
	db.lines = append(db.lines, line)
	return true
}

// remove deletes name's line; it reports whether there was one.
func (db *accountDB) remove(name string) bool {
	i := db.index(name)
	if i < 0 {
		return false
	}
	db.lines = append(db.lines[:i], db.lines[i+1:]...)
	return true
}

// ids returns the numeric ids in the third field of every line.
func (db *accountDB) ids() map[int]bool {
	out := map[int]bool{}
	for _, l := range db.lines {
		f := strings.Split(l, ":")
		if len(f) > 2 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				out[n] = true
			}
		}
	}
	return out
}

// idOf returns the id of name (field 3), or -1.
func (db *accountDB) idOf(name string) int {
	f := db.get(name)
	if len(f) < 3 {
		return -1
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return n
}

// nameOf returns the name whose id is id, or "".
func (db *accountDB) nameOf(id int) string {
	for _, l := range db.lines {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(id) {
			return f[0]
		}
	}
	return ""
}

// freeID is the lowest id >= 1000 (below 60000) that no line uses, so
// allocation is deterministic for a given database.
func freeID(used ...map[int]bool) (int, error) {
	for id := 1000; id < 60000; id++ {
		taken := false
		for _, u := range used {
			taken = taken || u[id]
		}
		if !taken {
			return id, nil
		}
	}
	return -1, errors.New("no free id in 1000..59999")
}

// write replaces the file atomically, keeping its mode and owner.
func (db *accountDB) write() error {
	var b bytes.Buffer
	for _, l := range db.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return safepath.WriteFile(db.path, b.Bytes(), db.mode, db.uid, db.gid)
}

// members parses a group line's member list.
func members(fields []string) []string {
	if len(fields) < 4 || fields[3] == "" {
		return nil
	}
	return strings.Split(fields[3], ",")
}

// withMember adds (or, !add, removes) user in a member list, keeping order.
func withMember(list []string, user string, add bool) []string {
	out := make([]string, 0, len(list)+1)
	has := false
	for _, m := range list {
		if m == user {
			has = true
			if !add {
				continue
			}
		}
		out = append(out, m)
	}
	if add && !has {
		out = append(out, user)
	}
	return out
}

func sortedSet(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
