package supervise

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
)

// exec's "!" and "+" run the main process as root while its dirs are the
// service user's (Debian's chrony.service: User=_chrony, ExecStart=!);
// "!!" runs it as the user.
func TestExecBangRunsMainAsRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	root := t.TempDir()
	h := newHarness(t, WithDirsRoot(root))
	main := func(prefix, name string) *config.Service {
		return &config.Service{Exec: []string{prefix + "/bin/sh", "-c", "echo uid $(id -u); exec sleep 100"}, User: "65534",
			Dirs: config.ServiceDirs{Runtime: []string{name}, RuntimeMode: "0700"}}
	}
	h.set(map[string]*config.Service{
		"bang":     main("!", "bang"),
		"plus":     main("+", "plus"),
		"bangbang": main("!!", "bangbang"),
	})
	for name, uid := range map[string]string{"bang": "0", "plus": "0", "bangbang": "65534"} {
		h.waitLog(name, is("uid "+uid))
		fi, err := os.Lstat(filepath.Join(root, "run", name))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("%s: runtime dir owned by %d:%d, want the user's 65534", name, st.Uid, st.Gid)
		}
	}
}

// exec's "@" gives argv[0] as the second word; ":" leaves its $VARs.
func TestExecArgv0AndNoExpand(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"at": {Exec: []string{"@/bin/sh", "custom-sh", "-c", "echo argv0=$0; exec sleep 100"}},
		"colon": {Exec: []string{":/bin/sh", "-c", "echo x=$1; exec sleep 100", "sh", "${X}"},
			Expand: true, Env: map[string]string{"X": "val"}},
	})
	h.waitLog("at", is("argv0=custom-sh"))
	h.waitLog("colon", is("x=${X}"))
}
