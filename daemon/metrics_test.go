package daemon

import "testing"

func TestPromEscape(t *testing.T) {
	for in, want := range map[string]string{
		"web":          "web",
		`a"b`:          `a\"b`,
		`back\slash`:   `back\\slash`,
		"two\nlines":   `two\nlines`,
		"":             "",
		"\\\"\n\\\"\n": `\\\"\n\\\"\n`,
	} {
		if got := promEscape(in); got != want {
			t.Errorf("promEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// `unit metrics` escapes the label of every line (about 11 per service):
// a name that needs no escape must not allocate, or one call at 100
// services leaves megabytes of garbage that grow PID 1's heap.
func TestPromEscapeNoAlloc(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = promEscape("service-042") }); n != 0 {
		t.Errorf("promEscape allocates %v times for a plain name", n)
	}
}
