package safepath

import "testing"

// The tag names this process with its start time.
func TestWriterGone(t *testing.T) {
	if writerGone(TempPrefix("x") + "1") {
		t.Error("our own temp file judged a dead writer's")
	}
	for name, want := range map[string]bool{
		".x.unit-tmp-1.999999999999-1": true, // pid 1 runs, but did not start then
		".x.unit-tmp-2147483000.5-1":   true,
		".x.unit-tmp-123":              false,
		"x.unit-tmp-2147483000.5-1":    false,
		".x.unit-tmp-abc.5-1":          false,
	} {
		if got := writerGone(name); got != want {
			t.Errorf("writerGone(%q) = %v, want %v", name, got, want)
		}
	}
}
