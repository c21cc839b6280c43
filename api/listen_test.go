package api

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenNeverTakesALiveSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "unit.sock")
	first, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	go func() { // answer like a daemon: accept and hang up
		for {
			c, err := first.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if l, err := Listen(path); err == nil || !strings.Contains(err.Error(), "a running unit answers") {
		if l != nil {
			l.Close()
		}
		t.Fatalf("second Listen on a live socket: %v", err)
	}
	if c, err := net.Dial("unix", path); err != nil {
		t.Fatalf("the first daemon's socket is gone: %v", err)
	} else {
		c.Close()
	}
}

func TestListenReplacesAStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unit.sock")
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	// A dead daemon's socket: the file stays, nobody answers.
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close()
	l, err := Listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l.Close()
}

func TestListenRefusesWhatIsNotASocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link} {
		if l, err := Listen(p); err == nil || !strings.Contains(err.Error(), "not a socket") {
			if l != nil {
				l.Close()
			}
			t.Errorf("Listen(%s) = %v, want a refusal", p, err)
		}
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "precious" {
		t.Fatalf("the file was touched: %q %v", b, err)
	}
}
