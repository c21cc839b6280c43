package config

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
