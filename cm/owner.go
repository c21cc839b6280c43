package cm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// The databases are read directly: the binary is static (no cgo, no NSS),
// and on the systems it manages these files are the whole truth.

// lookupUID resolves a user name or numeric id; "" means unmanaged (-1).
func (en *env) lookupUID(name string) (int, error) { return lookupID(en.passwd, "user", name) }

// lookupGID resolves a group name or numeric id; "" means unmanaged (-1).
func (en *env) lookupGID(name string) (int, error) { return lookupID(en.group, "group", name) }

func lookupID(db, kind, name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return int(n), nil
	}
	f, err := os.Open(db)
	if err != nil {
		return -1, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	defer f.Close()
	id, err := findID(f, name)
	if err != nil {
		return -1, fmt.Errorf("%s %q: %s: %w", kind, name, db, err)
	}
	return id, nil
}

// findID scans passwd/group-format lines ("name:x:ID:...") for name. Both
// files keep the id in the third field.
func findID(r io.Reader, name string) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.SplitN(line, ":", 4)
		if len(fields) < 3 || fields[0] != name {
			continue
		}
		id, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			return -1, fmt.Errorf("bad id %q", fields[2])
		}
		return int(id), nil
	}
	if err := sc.Err(); err != nil {
		return -1, err
	}
	return -1, fmt.Errorf("no such name")
}
