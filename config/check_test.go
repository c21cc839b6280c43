package config

import (
	"strings"
	"testing"
)

func TestChecksLoad(t *testing.T) {
	c, err := loadString(t, `
[service.api]
exec   = ["api"]
ready  = "check:health"
health = "check:page"

[check.page]
http = "http://127.0.0.1:80/"
body = "Welcome to nginx"

[check.health]
http = "http://127.0.0.1:8080/health"
status = 200
json = { status = "ok", "db.replicas" = 2, up = true }
timeout = "2s"
within = "1m"

[check.redis]
tcp = "127.0.0.1:6379"
send = "PING\r\n"
expect = "^\\+PONG"

[check.psql]
exec = ["psql", "-tAc", "select 1"]
output = "^1$"
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Checks) != 4 {
		t.Fatalf("%d checks", len(c.Checks))
	}
	h := c.Checks["health"]
	if h.ID() != "check:health" || h.Timeout.Duration.String() != "2s" || h.Within.Duration.String() != "1m0s" {
		t.Errorf("health: %+v", h)
	}
	want := map[string]string{"status": "ok", "db.replicas": "2", "up": "true"}
	for k, v := range want {
		if h.JSONWant()[k] != v {
			t.Errorf("json %s = %q, want %q", k, h.JSONWant()[k], v)
		}
	}
}

func TestChecksErrors(t *testing.T) {
	cases := map[string]string{
		"[check.a]\nhttp = \"http://x/\"\ntcp = \"x:1\"\n": `a.toml:1: check "a": expected exactly one of http`,
		"[check.a]\n":                                                                                `a.toml:1: check "a": expected exactly one of`,
		"[check.a]\nhttp = \"https://x/\"\n":                                                         `a.toml:2: check "a": https is not supported`,
		"[check.a]\nhttp = \"x:80\"\n":                                                               `a.toml:2: check "a": expected http = "http://HOST[:PORT]/PATH"`,
		"[check.a]\nhttp = \"http://x/\"\nbody = \"(\"\n":                                            `a.toml:3: check "a": body: not a regular expression`,
		"[check.a]\nhttp = \"http://x/\"\nstatus = 42\n":                                             `a.toml:3: check "a": status = 42`,
		"[check.a]\ntcp = \"6379\"\n":                                                                `a.toml:2: check "a": expected tcp = "HOST:PORT"`,
		"[check.a]\ntcp = \"h:1\"\nbody = \"x\"\n":                                                   `a.toml:3: check "a": body applies to http checks`,
		"[check.a]\nexec = [\"true\"]\nexpect = \"x\"\n":                                             `a.toml:3: check "a": expect applies to tcp checks`,
		"[check.a]\nhttp = \"http://x/\"\nexit = 1\n":                                                `a.toml:3: check "a": exit applies to exec checks`,
		"[check.a]\nhttp = \"http://x/\"\nwithin = \"soon\"\n":                                       `a.toml:3: check.a.within: invalid duration "soon"`,
		"[check.a]\nhttp = \"http://x/\"\n[file.\"/x\"]\ncontent = \"\"\nrequires = [\"check:a\"]\n": `a.toml:5: file:/x requires "check:a": a check is a question`,
		"[checks.a]\nhttp = \"http://x/\"\n":                                                         `did you mean "check"`,
		"[service.w]\nexec = [\"w\"]\nhealth = \"check:nope\"\n":                                     `a.toml:3: service "w": health = "check:nope": no [check.nope] is defined`,
		"[service.w]\nexec = [\"w\"]\nready = \"check:\"\n":                                          `a.toml:3: service "w": ready = "check:": expected check:NAME`,
		"[check.a]\nhttp = \"http://x/\"\n[service.w]\nexec = [\"w\"]\nrequires = [\"check:a\"]\n":   `service "w" requires "check:a": a check is a question`,
	}
	for src, want := range cases {
		_, err := loadString(t, src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", src, err, want)
		}
	}
}
