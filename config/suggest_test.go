package config

import (
	"slices"
	"testing"
)

// A transposition is one edit (optimal string alignment), so "stauts" is
// status's typo, not start's; equally close candidates are all offered.
func TestSuggestAll(t *testing.T) {
	cmds := []string{"start", "status", "stop", "restart", "events", "logs"}
	for word, want := range map[string][]string{
		"stauts":  {"status"},
		"restrat": {"restart"},
		"sta":     {"start", "stop"},
		"xyzzy":   nil,
	} {
		if got := SuggestAll(word, cmds); !slices.Equal(got, want) {
			t.Errorf("SuggestAll(%q) = %q, want %q", word, got, want)
		}
	}
	for a, b := range map[string]string{"ab": "ba", "stauts": "status", "ca": "abc"} {
		want := 1
		if a == "ca" {
			want = 3 // OSA, unlike unrestricted Damerau (2), edits no substring twice
		}
		if d := editDistance(a, b); d != want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", a, b, d, want)
		}
	}
}
