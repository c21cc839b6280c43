package config

import "testing"

// TestShortSpecGrammar pins what ready and health accept, what each part
// reads as, and the error texts a bad spec gets.
func TestShortSpecGrammar(t *testing.T) {
	type want struct {
		kind, arg, port, path string
		fd                    int
		err                   string
	}
	ready := map[string]want{
		"":               {kind: "started"},
		"started":        {kind: "started"},
		"notify":         {kind: "notify"},
		"forking":        {kind: "forking"},
		"fd:3":           {kind: "fd", arg: "3", fd: 3},
		"fd:2":           {err: "expected fd:N with N >= 3"},
		"tcp:8080":       {kind: "tcp", arg: "8080", port: "8080"},
		"tcp:0":          {err: "expected tcp:PORT with PORT in 1..65535"},
		"tcp:x":          {err: "expected tcp:PORT with PORT in 1..65535"},
		"exec:test -e f": {kind: "exec", arg: "test -e f"},
		"exec: ":         {err: "expected exec:COMMAND"},
		"check:api":      {kind: "check", arg: "api"},
		"check:":         {err: "expected check:NAME"},
		"http:80/":       {err: "expected one of started, notify, forking, fd:N, tcp:PORT, exec:CMD, check:NAME"},
		"started:x":      {err: "expected one of started, notify, forking, fd:N, tcp:PORT, exec:CMD, check:NAME"},
		"tcp":            {err: "expected one of started, notify, forking, fd:N, tcp:PORT, exec:CMD, check:NAME"},
	}
	health := map[string]want{
		"http:80/healthz": {kind: "http", arg: "80/healthz", port: "80", path: "healthz"},
		"http:80":         {kind: "http", arg: "80", port: "80"},
		"http:/x":         {err: `expected a port in 1..65535, got ""`},
		"tcp:5432":        {kind: "tcp", arg: "5432", port: "5432"},
		"tcp:70000":       {err: `expected a port in 1..65535, got "70000"`},
		"exec:pg_isready": {kind: "exec", arg: "pg_isready"},
		"exec:":           {err: "expected exec:COMMAND"},
		"check:db":        {kind: "check", arg: "db"},
		"check: ":         {err: "expected check:NAME"},
		"fd:3":            {err: "expected http:PORT/PATH, tcp:PORT, exec:CMD or check:NAME"},
		"udp:53":          {err: "expected http:PORT/PATH, tcp:PORT, exec:CMD or check:NAME"},
	}
	for _, c := range []struct {
		key   string
		parse func(string) (ShortSpec, error)
		cases map[string]want
	}{{"ready", ParseReady, ready}, {"health", ParseHealth, health}} {
		for in, w := range c.cases {
			s, err := c.parse(in)
			if w.err != "" {
				if err == nil || err.Error() != w.err {
					t.Errorf("%s %q: error %v, want %q", c.key, in, err, w.err)
				}
				continue
			}
			got := want{s.Kind, s.Arg, s.Port, s.Path, s.FD, ""}
			if err != nil || got != w {
				t.Errorf("%s %q: %+v, %v; want %+v", c.key, in, got, err, w)
			}
		}
	}
}
