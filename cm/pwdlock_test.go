package cm

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	// As a child: hold PATH's write lock (as lckpwdf does) until stdin ends.
	if p := os.Getenv("UNIT_CM_HOLD_LOCK"); p != "" {
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT, 0o600)
		if err == nil {
			err = unix.FcntlFlock(uintptr(fd), unix.F_SETLKW, &unix.Flock_t{Type: unix.F_WRLCK})
		}
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// /etc/gshadow, when the system has one, follows the group file: members
// of groups and of users' groups, new groups, removed ones; passwords and
// administrators stay.
func TestGshadowFollowsGroups(t *testing.T) {
	passwd, group, shadow, opt := accountsRoot(t)
	gshadow := filepath.Join(filepath.Dir(shadow), "gshadow")
	os.WriteFile(gshadow, []byte("root:*::\nusers:$6$gpw:admin:\nold:!::\n"), 0o640)
	cfg := loadCfg(t, "[group.web]\nmembers = [\"old\"]\n[user.www]\ngroups = [\"web\", \"users\"]\n")
	if rep := applyOnce(t, cfg, opt); rep.Failed != 0 {
		t.Fatalf("%s", rep)
	}
	want := "root:*::\nusers:$6$gpw:admin:www\nold:!::\nweb:!::old,www\n"
	if got := read(t, gshadow); got != want {
		t.Errorf("gshadow:\n%s\nwant:\n%s\n(group:\n%s)", got, want, read(t, group))
	}
	if fi, _ := os.Stat(gshadow); fi.Mode().Perm() != 0o640 {
		t.Errorf("gshadow mode %v", fi.Mode())
	}
	applyOnce(t, loadCfg(t, "[group.web]\nensure = \"absent\"\n[user.www]\nensure = \"absent\"\n"), opt)
	if got := read(t, gshadow); got != "root:*::\nusers:$6$gpw:admin:\nold:!::\n" {
		t.Errorf("gshadow after removal:\n%s", got)
	}
	_ = passwd
}

// An apply waits for /etc/.pwd.lock held by another program (useradd,
// vipw) and writes once it is free.
func TestAccountsWaitForPwdLock(t *testing.T) {
	passwd, _, _, opt := accountsRoot(t)
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), "UNIT_CM_HOLD_LOCK="+filepath.Join(filepath.Dir(passwd), ".pwd.lock"))
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		stdin.Close()
		t.Fatalf("lock holder: %q", line)
	}
	done := make(chan *Report, 1)
	go func() {
		rep, err := ApplyOnce(context.Background(), loadCfg(t, "[user.late]\nuid = 3000\n"), false, quietLog(), opt)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	select {
	case <-done:
		stdin.Close()
		t.Fatal("the apply wrote while another program held .pwd.lock")
	case <-time.After(500 * time.Millisecond):
	}
	if strings.Contains(read(t, passwd), "late:") {
		t.Fatal("passwd changed under another program's lock")
	}
	stdin.Close()
	select {
	case rep := <-done:
		if rep.Failed != 0 || !strings.Contains(read(t, passwd), "late:x:3000:") {
			t.Errorf("after the lock was released: %s\n%s", rep, read(t, passwd))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the apply did not go on once the lock was free")
	}
}
