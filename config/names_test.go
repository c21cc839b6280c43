package config

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The hand-written name checks say what the regexps they replace said, on
// every short string over the bytes that matter and on random ones.
func TestNameChecksAreTheirRegexps(t *testing.T) {
	for _, c := range []struct {
		name  string
		check func(string) bool
		re    string
	}{
		{"account", isAccountName, `^[a-z_][a-z0-9_-]*\$?$`},
		{"bare key", isBareKey, `^[A-Za-z0-9_-]+$`},
		{"sysctl", isSysctlKey, `^[A-Za-z0-9_-]+([./][A-Za-z0-9_:-]+)*$`},
	} {
		re := regexp.MustCompile(c.re)
		alphabet := []byte("aZ0_-.:/$ \n\xff")
		try := func(s string) {
			if got, want := c.check(s), re.MatchString(s); got != want {
				t.Errorf("%s %q: %v, the regexp says %v", c.name, s, got, want)
			}
		}
		var all func(prefix []byte, n int)
		all = func(prefix []byte, n int) {
			try(string(prefix))
			if n == 0 {
				return
			}
			for _, b := range alphabet {
				all(append(prefix, b), n-1)
			}
		}
		all(nil, 4)
		r := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			try(string(b))
		}
	}
}
