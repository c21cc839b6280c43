package operator

import (
	"slices"
	"testing"

	"github.com/unit-os/unit/fleet"
)

// TestCount: an answer with an error counts as failed, an expected node
// that did not answer as missing (in expected's order), a node nobody
// expected that answers is neither; the fan-out is complete only with
// neither failed nor missing.
func TestCount(t *testing.T) {
	res := &Result{Replies: []fleet.Reply{{Node: "a"}, {Node: "b", Error: "no such service"}, {Node: "new"}}}
	for _, c := range []struct {
		expected []string
		failed   int
		missing  []string
	}{
		{nil, 1, nil},
		{[]string{"d", "a", "c", "b"}, 1, []string{"d", "c"}},
	} {
		got := Count(res, c.expected)
		if got.Failed != c.failed || !slices.Equal(got.Missing, c.missing) || got.Complete() {
			t.Errorf("Count(%v) = %+v, complete %v; want %d failed, missing %v, not complete", c.expected, got, got.Complete(), c.failed, c.missing)
		}
	}
	ok := Count(&Result{Replies: []fleet.Reply{{Node: "a"}, {Node: "b"}}}, []string{"a", "b"})
	if !ok.Complete() || ok.Failed != 0 || ok.Missing != nil {
		t.Errorf("all answered, none failed: %+v, complete %v", ok, ok.Complete())
	}
	if silent := Count(&Result{}, []string{"a"}); silent.Complete() {
		t.Errorf("one expected, none answered: %+v is complete", silent)
	}
}
