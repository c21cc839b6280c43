package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// unit checks asks the running daemon's [check.NAME] questions: each row
// says pass or FAIL with what was expected and what came, and the exit
// code is 1 when one fails. The services here are the test's own.
func TestHostChecks(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"ok","version":3}`)
	}))
	defer web.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("+PONG\r\n"))
			c.Close()
		}
	}()
	cfgDir := t.TempDir()
	good := fmt.Sprintf(`
[check.api]
http = "%[1]s/health"
json = { status = "ok", version = 3 }

[check.cache]
tcp = "%[2]s"
send = "PING\r\n"
expect = "^\\+PONG"

[check.tool]
exec = ["sh", "-c", "echo ready"]
output = "ready"
`, web.URL, l.Addr())
	writeConfig(t, cfgDir, "a.toml", good)
	d := startDaemon(t, cfgDir)
	out, err := d.unit("checks")
	if err != nil {
		t.Fatalf("unit checks: %v\n%s", err, out)
	}
	for _, want := range []string{"api    pass", "cache  pass", "tool   pass", "3 checks: 3 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}

	// A wrong expectation fails, names the check and says why; the config
	// reloads on its own (inotify), and the next run sees it.
	writeConfig(t, cfgDir, "a.toml", strings.Replace(good, `json = { status = "ok", version = 3 }`, "json = { status = \"degraded\", version = 3 }\nwithin = \"1s\"", 1))
	waitFor(t, 30*time.Second, "the reload", func() bool {
		out, _ = d.unit("checks")
		return strings.Contains(out, "FAIL")
	})
	if !strings.Contains(out, `api    FAIL`) || !strings.Contains(out, `expected json status = "degraded", got "ok"`) || !strings.Contains(out, "3 checks: 2 passed, 1 failed") {
		t.Errorf("a failing check:\n%s", out)
	}
	if _, err := d.unit("checks"); exitStatus(err) != 1 {
		t.Errorf("unit checks with a failure: exit %d, want 1", exitStatus(err))
	}
	out, _ = d.unit("checks", "--json")
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 3 || res[0]["name"] != "api" || res[0]["ok"] != false {
		t.Errorf("--json: %v\n%s", err, out)
	}
}
