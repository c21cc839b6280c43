package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Tmpfile is one [tmpfile."PATH"] table: a directory made like a dir, whose
// entries are removed once all their times are older than Age, as
// systemd-tmpfiles does for a "d" line with an age.
type Tmpfile struct {
	Meta
	Edges
	Mode  string `toml:"mode"`
	Owner string `toml:"owner"`
	Group string `toml:"group"`
	// Age is a systemd time span: "10d", "12h", "1w 2d", "90" (seconds).
	Age string `toml:"age"`

	DirMode uint32        `toml:"-"` // Mode parsed; 0755 when unset
	MaxAge  time.Duration `toml:"-"` // Age parsed
}

func validateTmpfile(t *Tmpfile) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &t.Meta, "tmpfile")
	checkBelowRoot(bad, t.Name, "path must be absolute, clean and not / (e.g. \"/var/cache/app\")")
	t.DirMode = parseMode(bad, t.Mode, 0o755)
	switch age, err := parseAge(t.Age); {
	case t.Age == "":
		bad("", "expected age = \"10d\" (entries older than that are removed)")
	case err != nil:
		bad("age", "age = %q: %v", t.Age, err)
	default:
		t.MaxAge = age
	}
	return errs
}

// ageUnits are the systemd time span units an age may use.
var ageUnits = map[string]time.Duration{
	"": time.Second, "s": time.Second, "sec": time.Second,
	"m": time.Minute, "min": time.Minute,
	"h": time.Hour, "hr": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// parseAge reads a systemd time span: numbers each followed by a unit
// (s, m or min, h, d, w), summed, spaces allowed between them; a bare
// number is seconds.
func parseAge(s string) (time.Duration, error) {
	const want = "expected a time span such as \"10d\", \"12h\" or \"1w 2d\" (units s, m, h, d, w)"
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, fmt.Errorf("%s", want)
	}
	var total time.Duration
	for rest != "" {
		digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		rest2 := rest[digits:]
		letters := len(rest2) - len(strings.TrimLeft(rest2, "abcdefghijklmnopqrstuvwxyz"))
		n, err := strconv.ParseInt(rest[:digits], 10, 64)
		unit, ok := ageUnits[rest2[:letters]]
		if digits == 0 || err != nil || !ok {
			return 0, fmt.Errorf("%s", want)
		}
		if n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("too long")
		}
		total += time.Duration(n) * unit
		rest = strings.TrimLeft(rest2[letters:], " ")
	}
	if total == 0 {
		return 0, fmt.Errorf("must be more than 0")
	}
	return total, nil
}
