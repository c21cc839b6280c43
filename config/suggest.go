package config

import "sort"

// Suggest returns the candidate closest to word by edit distance, if it is
// close enough to be a plausible typo, else "". Ties go to the first in
// sorted order.
func Suggest(word string, candidates []string) string {
	m := make(map[string]struct{}, len(candidates))
	for _, c := range candidates {
		m[c] = struct{}{}
	}
	return closestOf(word, m)
}

// SuggestAll returns every candidate as close to word as the closest one,
// sorted, if they are close enough to be a plausible typo, else nil: a
// user shown "status or start" picks, rather than being sent to one.
func SuggestAll(word string, candidates []string) []string {
	var best []string
	bestD := len(word)/2 + 2 // farther than len/2+1 is not a typo (as Suggest)
	for _, c := range candidates {
		switch d := editDistance(word, c); {
		case d < bestD:
			best, bestD = []string{c}, d
		case d == bestD:
			best = append(best, c)
		}
	}
	sort.Strings(best)
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours cost one each,
// so "stauts" is one edit from "status" (as git counts typos), two from
// "start".
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j]; three rows suffice.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
