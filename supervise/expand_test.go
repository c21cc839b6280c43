package supervise

import (
	"slices"
	"testing"
)

func TestExpandArgv(t *testing.T) {
	env := map[string]string{"OPTS": " -a  -b\t'c' ", "ONE": "x y", "EMPTY": ""}
	for _, c := range []struct {
		in, want []string
	}{
		{[]string{"/bin/d", "$OPTS"}, []string{"/bin/d", "-a", "-b", "'c'"}},
		{[]string{"/bin/d", "${ONE}"}, []string{"/bin/d", "x y"}},
		{[]string{"/bin/d", "--o=${ONE}!", "a$ONE"}, []string{"/bin/d", "--o=x y!", "a$ONE"}},
		{[]string{"/bin/d", "$EMPTY", "$UNSET", "${UNSET}"}, []string{"/bin/d", ""}},
		{[]string{"/bin/d", "$$ONE", "a$$b", "${", "$", "${1x}"}, []string{"/bin/d", "$ONE", "a$b", "${", "$", "${1x}"}},
	} {
		if got := expandArgv(c.in, env); !slices.Equal(got, c.want) {
			t.Errorf("expandArgv(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
