package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSumsByStamp: a file's hash is taken from its record while its stamp
// matches, and computed again once the file changed, even in place with
// its old size and modification time put back (the change time moved).
func TestSumsByStamp(t *testing.T) {
	dir := t.TempDir()
	s := sums{dir: filepath.Join(dir, "sums")}
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("aaaa"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, size, err := s.of(p)
	if err != nil || size != 4 {
		t.Fatalf("of = %q, %d, %v", sum, size, err)
	}
	want, _, _ := fileSum(p)
	if sum != want {
		t.Fatalf("sum %s, want %s", sum, want)
	}
	// A forged record with the right stamp is believed: proof the file
	// is not read again while its stamp matches.
	rec, err := os.ReadFile(s.record(p))
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Repeat("0", 64)
	f := strings.Fields(string(rec))
	if err := os.WriteFile(s.record(p), []byte(f[0]+" "+forged+" "+f[2]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.of(p); got != forged {
		t.Fatalf("stamp matched but the record was not used: %s", got)
	}
	fi, _ := os.Stat(p)
	if err := os.WriteFile(p, []byte("bbbb"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, time.Now(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.of(p)
	want, _, _ = fileSum(p)
	if err != nil || got != want {
		t.Fatalf("after an in-place change: %s, %v; want %s", got, err, want)
	}
	if err := os.Symlink(p, filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.of(filepath.Join(dir, "l")); err == nil {
		t.Fatal("a symlink was followed")
	}
}
