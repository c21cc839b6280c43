package kmod

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeKernel is a module tree and a /sys/module whose finit_module records
// what it was asked to insert.
type fakeKernel struct {
	mu       sync.Mutex
	inserted []string
}

func newFakeLoader(t *testing.T, dep string, live ...string) (*Loader, *fakeKernel) {
	t.Helper()
	dir, sys := t.TempDir(), t.TempDir()
	d, err := ParseDep(strings.NewReader(dep))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, m := range d {
		p := filepath.Join(dir, m.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(m.Name), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[p] = m.Name
	}
	for _, name := range live {
		if err := os.MkdirAll(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, name, "initstate"), []byte("live\n"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	k := &fakeKernel{}
	l := &Loader{Dir: dir, dep: d, builtin: map[string]bool{}, sysModule: sys}
	l.finit = func(fd int, params string, flags int) error {
		b := make([]byte, 64)
		n, err := unix.Pread(fd, b, 0)
		if err != nil {
			return err
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		k.inserted = append(k.inserted, string(b[:n]))
		return nil
	}
	return l, k
}

// A module the kernel already has is not handed to finit_module again
// (which would check its signature before saying EEXIST); its dependents
// still are.
func TestLoadSkipsModulesInKernel(t *testing.T) {
	l, k := newFakeLoader(t, sampleDep, "failover")
	loaded, err := l.Load("virtio_net")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(k.inserted, ","), "net_failover,virtio_net"; got != want {
		t.Errorf("finit_module for %s, want %s", got, want)
	}
	if got, want := strings.Join(loaded, ","), "net_failover,virtio_net"; got != want {
		t.Errorf("Load says it inserted %s, want %s", got, want)
	}
}
