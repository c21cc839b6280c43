package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHostMetrics: [metrics] textfile is written in Prometheus text
// format once the daemon runs and again when something changes (a drift
// repair, a service that exits); `unit metrics` answers the same at any
// moment; promtool-like checks that every sample has its family.
func TestHostMetrics(t *testing.T) {
	cfgDir, out := t.TempDir(), t.TempDir()
	prom := filepath.Join(out, "unit.prom")
	managed := filepath.Join(out, "managed")
	writeConfig(t, cfgDir, "a.toml", fmt.Sprintf(`
[metrics]
textfile = %q

[service.web]
exec = ["sleep", "1000"]

[service.bad]
exec    = ["sh", "-c", "exit 7"]
restart = "never"

[file.%q]
content = "managed\n"
`, prom, managed))
	d := startDaemon(t, cfgDir)
	d.waitState(t, "web", "running")
	d.waitState(t, "bad", "exited")
	read := func() string {
		b, _ := os.ReadFile(prom)
		return string(b)
	}
	want := []string{
		`unit_service_state{service="web",state="running"} 1`,
		`unit_service_state{service="web",state="failed"} 0`,
		`unit_service_last_exit_code{service="bad"} 7`,
		`unit_service_ready{service="web"} 1`,
		`unit_service_ready{service="bad"} 0`,
		`unit_cm_resources{kind="file"} 1`,
		`unit_cm_failing 0`,
		`unit_config_error 0`,
	}
	waitFor(t, 10*time.Second, "the textfile with both services settled", func() bool {
		text := read()
		for _, w := range want {
			if !strings.Contains(text, w+"\n") {
				return false
			}
		}
		return true
	})
	checkExposition(t, read())

	// A drift repair shows in the file without anyone asking.
	if err := os.Remove(managed); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the repair counted in the textfile", func() bool {
		return strings.Contains(read(), "unit_cm_drift_repairs_total 1\n")
	})
	got, err := d.unit("metrics")
	if err != nil || !strings.Contains(got, "unit_cm_drift_repairs_total 1\n") || !strings.Contains(got, `unit_service_state{service="web",state="running"} 1`) {
		t.Errorf("unit metrics: %v\n%s", err, got)
	}
	checkExposition(t, got)
	if m := regexp.MustCompile(`(?m)^unit_memory_rss_bytes (\d+)$`).FindStringSubmatch(got); m == nil || m[1] == "0" {
		t.Errorf("no RSS of unit itself:\n%s", got)
	}
}

// checkExposition checks the text format's rules that a scraper trips
// on: every sample belongs to a family announced by # TYPE before it,
// each family once, values are numbers.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	typed := map[string]bool{}
	sample := regexp.MustCompile(`^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+)$`)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f, ok := strings.CutPrefix(l, "# TYPE "); ok {
			name := strings.Fields(f)[0]
			if typed[name] {
				t.Errorf("family %s announced twice", name)
			}
			typed[name] = true
			continue
		}
		if strings.HasPrefix(l, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("not a sample: %q", l)
			continue
		}
		if !typed[m[1]] {
			t.Errorf("sample of %s before its # TYPE", m[1])
		}
	}
}
