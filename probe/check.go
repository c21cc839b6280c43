package probe

import (
	"fmt"
	"regexp"
	"time"

	"github.com/unit-os/unit/config"
)

// FromCheck makes the probe of a [check.NAME]; the config validated it, so
// an error here means it was built by hand.
func FromCheck(c *config.Check) (Spec, error) {
	s := Spec{HTTP: c.HTTP, TCP: c.TCP, Exec: c.Exec, Status: c.Status, JSON: c.JSONWant(), Send: c.Send, Exit: c.Exit, Timeout: c.Timeout.Duration}
	if s.Timeout == 0 {
		s.Timeout = config.DefaultCheckTimeout
	}
	for _, re := range []struct {
		dst **regexp.Regexp
		src string
	}{{&s.Body, c.Body}, {&s.Expect, c.Expect}, {&s.Output, c.Output}} {
		if re.src == "" {
			continue
		}
		r, err := regexp.Compile(re.src)
		if err != nil {
			return Spec{}, fmt.Errorf("check %s: %w", c.Name, err)
		}
		*re.dst = r
	}
	return s, nil
}

// Within is how long a check may take to pass.
func Within(c *config.Check) time.Duration {
	if c.Within.Duration > 0 {
		return c.Within.Duration
	}
	return config.DefaultCheckWithin
}
