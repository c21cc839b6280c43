package syntax

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Infinity is the time span "infinity".
const Infinity = time.Duration(math.MaxInt64)

// units in the order parse_time tries them: a longer name before its
// prefix ("min" before "m", "ms" before "m").
var units = []struct {
	name string
	d    time.Duration
}{
	{"seconds", time.Second}, {"second", time.Second}, {"sec", time.Second}, {"s", time.Second},
	{"minutes", time.Minute}, {"minute", time.Minute}, {"min", time.Minute},
	{"months", 2629800 * time.Second}, {"month", 2629800 * time.Second}, {"M", 2629800 * time.Second},
	{"msec", time.Millisecond}, {"ms", time.Millisecond}, {"m", time.Minute},
	{"hours", time.Hour}, {"hour", time.Hour}, {"hr", time.Hour}, {"h", time.Hour},
	{"days", 24 * time.Hour}, {"day", 24 * time.Hour}, {"d", 24 * time.Hour},
	{"weeks", 7 * 24 * time.Hour}, {"week", 7 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour},
	{"years", 31557600 * time.Second}, {"year", 31557600 * time.Second}, {"y", 31557600 * time.Second},
	{"usec", time.Microsecond}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"μs", time.Microsecond},
}

// ParseTimespan reads a time span as parse_sec does: "infinity", or a sum
// of numbers (a fraction allowed) each with an optional unit, seconds if
// none ("90", "1min 30s", "1.5h", "2min30s"). Precision is a microsecond.
func ParseTimespan(s string) (time.Duration, error) {
	p := strings.TrimLeft(s, Whitespace)
	if rest, ok := strings.CutPrefix(p, "infinity"); ok {
		if strings.TrimLeft(rest, Whitespace) != "" {
			return 0, fmt.Errorf("bad time span %q", s)
		}
		return Infinity, nil
	}
	var total time.Duration
	something := false
	for {
		p = strings.TrimLeft(p, Whitespace)
		if p == "" {
			if !something {
				return 0, fmt.Errorf("empty time span")
			}
			return total, nil
		}
		if p[0] == '-' {
			return 0, fmt.Errorf("negative time span %q", s)
		}
		i := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		intPart := p[:i]
		frac := ""
		if i < len(p) && p[i] == '.' {
			j := i + 1
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			frac = p[i+1 : j]
			i = j
		} else if i == 0 {
			return 0, fmt.Errorf("bad time span %q: expected a number", s)
		}
		p = p[i:]
		q := strings.TrimLeft(p, Whitespace)
		unit := time.Second
		matched := false
		for _, u := range units {
			if strings.HasPrefix(q, u.name) {
				unit, q, matched = u.d, q[len(u.name):], true
				break
			}
		}
		if !matched && q == p && q != "" {
			return 0, fmt.Errorf("bad time span %q: unknown unit at %q", s, q)
		}
		p = q
		var n time.Duration
		for _, c := range []byte(intPart) {
			if n > (math.MaxInt64-9)/10 {
				return 0, fmt.Errorf("time span %q too large", s)
			}
			n = n*10 + time.Duration(c-'0')
		}
		if n > 0 && n > math.MaxInt64/unit {
			return 0, fmt.Errorf("time span %q too large", s)
		}
		v := n * unit
		// The fraction, to a microsecond as systemd keeps it.
		scale := unit / 10
		for _, c := range []byte(frac) {
			if scale < time.Microsecond {
				break
			}
			v += time.Duration(c-'0') * scale
			scale /= 10
		}
		v = v.Truncate(time.Microsecond)
		if v < 0 || total > math.MaxInt64-v {
			return 0, fmt.Errorf("time span %q too large", s)
		}
		total += v
		something = true
	}
}
