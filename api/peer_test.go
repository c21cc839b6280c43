package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestMain(m *testing.M) {
	// As a child: hold connections as another user (holdConns).
	if sock := os.Getenv("UNIT_API_TEST_HOLD"); sock != "" {
		holdConns(sock)
		os.Exit(0)
	}
	// As a child: one client call as another user, result on stdout.
	if sock := os.Getenv("UNIT_API_TEST_CLIENT"); sock != "" {
		err := Call(context.Background(), sock, Request{Cmd: os.Getenv("UNIT_API_TEST_CMD")}, nil)
		fmt.Printf("result: %v\n", err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The socket appears with its final mode (0600, or 0660 and the group),
// and leaves no temporary directory behind.
func TestListenMode(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		opts []ListenOption
		mode os.FileMode
		gid  int
	}{{nil, 0o600, 0}, {[]ListenOption{ReadOnlyGroup(4242)}, 0o660, 4242}} {
		path := filepath.Join(dir, "unit.sock")
		l, err := Listen(path, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != c.mode || (os.Geteuid() == 0 && int(st.Gid) != c.gid) {
			t.Errorf("socket %v gid %d, want mode %v gid %d", fi.Mode(), st.Gid, c.mode, c.gid)
		}
		l.Close()
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("socket left after Close: %v", err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".unit-sock-*")); len(m) > 0 {
		t.Errorf("temporary directories left: %v", m)
	}
}

// A client that is not root may only use the read-only commands: its
// uid comes from the kernel (SO_PEERCRED), not from what it says.
func TestPeerCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	dir := publicTempDir(t)
	path := filepath.Join(dir, "unit.sock")
	const gid = 4242
	l, err := Listen(path, ReadOnlyGroup(gid))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, l, func(ctx context.Context, req Request, send func(any) error) error {
		return send(json.RawMessage(`"ok"`))
	}, nil)
	bin := copyTestBinary(t, dir)
	run := func(cmd string, uid, g uint32) string {
		c := exec.Command(bin, "-test.run=^$")
		c.Env = append(os.Environ(), "UNIT_API_TEST_CLIENT="+path, "UNIT_API_TEST_CMD="+cmd)
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: g}}
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run("status", 65534, gid); !strings.Contains(out, "result: <nil>") {
		t.Errorf("group member, status: %s", out)
	}
	if out := run("stop", 65534, gid); !strings.Contains(out, "stop: permission denied (uid 65534") {
		t.Errorf("group member, stop: %s", out)
	}
	if out := run("status", 65534, 65534); !strings.Contains(out, "permission denied") {
		t.Errorf("not in the group, status: %s", out)
	}
	if out := run("stop", 0, 0); !strings.Contains(out, "result: <nil>") {
		t.Errorf("root, stop: %s", out)
	}
}

// publicTempDir is a directory other users may enter (t.TempDir's parent
// is private, and clients run as nobody).
func publicTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "unit-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	return dir
}

// copyTestBinary puts the test binary where another user may run it.
func copyTestBinary(t *testing.T, dir string) string {
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "client")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
