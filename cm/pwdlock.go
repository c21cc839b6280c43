package cm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pwdLockWait bounds the wait for /etc/.pwd.lock, as lckpwdf(3) does.
const pwdLockWait = 15 * time.Second

// lockPasswd takes the lock shadow-utils (useradd, passwd, vipw) and
// glibc's lckpwdf take before they rewrite the account files: a write
// lock on .pwd.lock beside passwd. Inside unit, env.accounts serialises;
// this keeps a useradd running beside unit from interleaving with it.
func (e *env) lockPasswd() (unlock func(), err error) {
	path := filepath.Join(filepath.Dir(e.passwd), ".pwd.lock")
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	got := make(chan error, 1)
	go func() { got <- unix.FcntlFlock(uintptr(fd), unix.F_SETLKW, &lk) }()
	select {
	case err = <-got:
	case <-time.After(pwdLockWait):
		// The waiting goroutine still holds the fd: closing it drops
		// the lock if it is granted later.
		go func() { <-got; unix.Close(fd) }()
		return nil, fmt.Errorf("lock %s: held by another program for %s", path, pwdLockWait)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { unix.Close(fd) }, nil
}

// syncGshadow makes /etc/gshadow (when the system has one) agree with the
// group file: every group has a line, members as in group, and groups
// that are gone lose theirs. Passwords and administrators are kept.
func (e *env) syncGshadow(group *accountDB) error {
	path := filepath.Join(filepath.Dir(e.shadow), "gshadow")
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	gs, err := readDB(path, 0o640)
	if err != nil {
		return err
	}
	changed := false
	want := map[string]bool{}
	for _, l := range group.lines {
		f := strings.Split(l, ":")
		if len(f) < 3 || f[0] == "" || strings.HasPrefix(f[0], "#") {
			continue
		}
		want[f[0]] = true
		line := []string{f[0], "!", "", ""}
		if cur := gs.get(f[0]); cur != nil {
			copy(line, cur)
		}
		line[3] = strings.Join(members(f), ",")
		if cur := gs.get(f[0]); cur == nil || strings.Join(cur, ":") != strings.Join(line, ":") {
			changed = gs.set(f[0], line) || changed
		}
	}
	for _, l := range append([]string(nil), gs.lines...) {
		name, _, _ := strings.Cut(l, ":")
		if name != "" && !strings.HasPrefix(name, "#") && !want[name] {
			changed = gs.remove(name) || changed
		}
	}
	if !changed {
		return nil
	}
	return gs.write()
}
