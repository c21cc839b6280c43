package ldso

import (
	"testing"
)

// hostView opens the host's / as if it were an image tree.
func hostView(t testing.TB) *DirView {
	t.Helper()
	v, err := OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestClosureHostSSH(t *testing.T) {
	v := hostView(t)
	res, err := Closure(v, []string{"/usr/bin/ssh"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("missing: %v", err)
	}
	t.Logf("%d files: %v", len(res.Files), res.Files)
}
