package operator

// Tally is a fan-out's replies counted against the nodes that should
// have answered.
type Tally struct {
	// Failed counts the nodes that answered with an error.
	Failed int
	// Missing are the expected nodes that did not answer, in expected's
	// order.
	Missing []string
}

// Count tallies res against expected.
func Count(res *Result, expected []string) Tally {
	var t Tally
	answered := map[string]bool{}
	for _, r := range res.Replies {
		answered[r.Node] = true
		if r.Error != "" {
			t.Failed++
		}
	}
	for _, n := range expected {
		if !answered[n] {
			t.Missing = append(t.Missing, n)
		}
	}
	return t
}

// Complete says whether the fan-out did what it was asked: every
// expected node answered and none with an error. A command that is not
// complete exits 1.
func (t Tally) Complete() bool { return t.Failed == 0 && len(t.Missing) == 0 }
