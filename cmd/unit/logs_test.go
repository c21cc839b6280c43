package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// unit logs with no name interleaves every service by time, naming each;
// -n and --since narrow it; -f follows them all; unit status NAME ends
// with the service's last lines, as systemctl status does.
func TestLogsAllServicesSinceAndStatusTail(t *testing.T) {
	cfgDir := t.TempDir()
	writeConfig(t, cfgDir, "a.toml", `
[service.a]
exec = ["/bin/sh", "-c", "echo a1; sleep 0.2; echo a2; sleep 0.4; echo a3; exec sleep 1000"]
[service.b]
exec = ["/bin/sh", "-c", "sleep 0.1; echo b1; sleep 0.2; echo b2; exec sleep 1000"]
`)
	d := startDaemon(t, cfgDir)
	follow := d.follower(t, "logs", "-f")
	var out string
	waitFor(t, 20*time.Second, "a3 and b2 logged", func() bool {
		o, err := d.unit("logs")
		out = o
		return err == nil && strings.Contains(o, " a: a3") && strings.Contains(o, " b: b2")
	})
	// Sorted by time across services (the services' own timing is not
	// asserted: under load b may start late), each service's in order.
	line := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}) (a|b): (\w+)$`)
	var prev string
	per := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unit logs line %q: want a fixed-width time, the service and its text", l)
		}
		if m[1] < prev {
			t.Errorf("line %q is before the one above it:\n%s", l, out)
		}
		prev = m[1]
		per[m[2]] += m[3] + " "
	}
	if per["a"] != "a1 a2 a3 " || per["b"] != "b1 b2 " {
		t.Errorf("lines per service %q; want a1 a2 a3 and b1 b2:\n%s", per, out)
	}
	all := strings.Split(strings.TrimSpace(out), "\n")
	if o, err := d.unit("logs", "-n", "2"); err != nil || strings.TrimSpace(o) != strings.Join(all[len(all)-2:], "\n") {
		t.Errorf("logs -n 2: %v\n%s\nwant the last two of\n%s", err, o, out)
	}
	if o, err := d.unit("logs", "--since", "1h", "b"); err != nil || strings.Count(o, "\n") != 2 || strings.Contains(o, " b: ") {
		t.Errorf("logs --since 1h b: %v\n%q", err, o)
	}
	future := time.Now().Add(time.Hour).Format(time.RFC3339)
	if o, err := d.unit("logs", "--since", future); err != nil || o != "" {
		t.Errorf("logs --since (future): %v\n%q", err, o)
	}
	if o, err := d.unit("logs", "--since", "yesterday-ish"); err == nil || !strings.Contains(o, `--since "yesterday-ish": expected`) {
		t.Errorf("logs --since bad: %v\n%s", err, o)
	}
	expectLine(t, "logs -f (all)", follow, func(s string) bool { return strings.HasSuffix(s, " b: b2") })
	st, err := d.unit("status", "a")
	if err != nil || !strings.Contains(st, "state:") || !strings.HasSuffix(strings.TrimSpace(st), " a3") {
		t.Errorf("status a does not end with its last lines: %v\n%s", err, st)
	}
}
