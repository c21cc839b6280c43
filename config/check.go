package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// Check is a [check.NAME]: a question to the running system whose answer
// must be right (package probe asks it). `unit checks` runs them in a
// machine, `unit image test` in a fresh boot of an image; an update is
// committed only when they pass. Checks are named tables, as every other
// kind, so fragments and fleet layers merge and override them by name.
type Check struct {
	Meta
	HTTP string   `toml:"http"` // http://HOST[:PORT]/PATH
	TCP  string   `toml:"tcp"`  // HOST:PORT
	Exec []string `toml:"exec"` // argv

	Status int            `toml:"status"` // http: the status wanted (200)
	Body   string         `toml:"body"`   // http: a regexp the body must match
	JSON   map[string]any `toml:"json"`   // http: {"path.to.field" = value}
	Send   string         `toml:"send"`   // tcp: written once connected
	Expect string         `toml:"expect"` // tcp: a regexp the reply must match
	Exit   int            `toml:"exit"`   // exec: the exit code wanted (0)
	Output string         `toml:"output"` // exec: a regexp its output must match

	// Timeout bounds one try (5s); Within is how long a check may take to
	// pass, tried again every second until then (30s): a service that is
	// up may still be warming.
	Timeout Duration `toml:"timeout"`
	Within  Duration `toml:"within"`
}

// Check defaults.
const (
	DefaultCheckTimeout = 5 * time.Second
	DefaultCheckWithin  = 30 * time.Second
)

// JSONWant is the json table with its values as text (a TOML 0 is "0", a
// true is "true"), as the probe compares them.
func (c *Check) JSONWant() map[string]string {
	if len(c.JSON) == 0 {
		return nil
	}
	out := make(map[string]string, len(c.JSON))
	for k, v := range c.JSON {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

func validateCheck(c *Check) Errors {
	var errs Errors
	bad := resourceComplainer(&errs, &c.Meta, "check")
	kinds := 0
	for _, set := range []bool{c.HTTP != "", c.TCP != "", len(c.Exec) > 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		bad("", "expected exactly one of http = \"http://HOST:PORT/PATH\", tcp = \"HOST:PORT\", exec = [\"cmd\", ...]")
		return errs
	}
	only := func(key string, set bool, kind string) {
		if set {
			bad(key, "%s applies to %s checks", key, kind)
		}
	}
	regex := func(key, re string) {
		if re == "" {
			return
		}
		if _, err := regexp.Compile(re); err != nil {
			bad(key, "%s: not a regular expression (Go syntax): %v", key, err)
		}
	}
	switch {
	case c.HTTP != "":
		u, err := url.Parse(c.HTTP)
		switch {
		case err != nil || u.Scheme == "":
			bad("http", "expected http = \"http://HOST[:PORT]/PATH\", got %q", c.HTTP)
		case u.Scheme == "https":
			bad("http", "https is not supported by checks yet; use http://")
		case u.Scheme != "http" || u.Hostname() == "":
			bad("http", "expected http = \"http://HOST[:PORT]/PATH\", got %q", c.HTTP)
		}
		if c.Status != 0 && (c.Status < 100 || c.Status > 599) {
			bad("status", "status = %d: expected an HTTP status, 100 to 599", c.Status)
		}
		regex("body", c.Body)
		for k, v := range c.JSON {
			switch v.(type) {
			case string, int64, float64, bool:
			default:
				bad("json", "json.%s: expected a string, number or boolean", k)
			}
		}
	case c.TCP != "":
		if host, port, err := net.SplitHostPort(c.TCP); err != nil || host == "" || port == "" {
			bad("tcp", "expected tcp = \"HOST:PORT\", got %q", c.TCP)
		}
		regex("expect", c.Expect)
	default:
		if c.Exec[0] == "" {
			bad("exec", "exec: the command is empty")
		}
		regex("output", c.Output)
	}
	only("status", c.Status != 0 && c.HTTP == "", "http")
	only("body", c.Body != "" && c.HTTP == "", "http")
	only("json", len(c.JSON) > 0 && c.HTTP == "", "http")
	only("send", c.Send != "" && c.TCP == "", "tcp")
	only("expect", c.Expect != "" && c.TCP == "", "tcp")
	only("exit", c.Exit != 0 && len(c.Exec) == 0, "exec")
	only("output", c.Output != "" && len(c.Exec) == 0, "exec")
	return errs
}
