package config

import (
	"strings"
	"testing"
	"time"
)

func TestTmpfileLoad(t *testing.T) {
	c, err := loadString(t, `
[tmpfile."/var/cache/app"]
mode = "0750"
owner = "www"
age = "1w 2d"
requires = ["user:www"]
[user.www]
`)
	if err != nil {
		t.Fatal(err)
	}
	tf := c.Tmpfiles["/var/cache/app"]
	if tf == nil || tf.DirMode != 0o750 || tf.MaxAge != 9*24*time.Hour || tf.ID() != "tmpfile:/var/cache/app" {
		t.Fatalf("tmpfile = %+v", tf)
	}
	if !c.Has("tmpfile:/var/cache/app") || !IsKind("tmpfile") || Refreshable("tmpfile:/var/cache/app") {
		t.Error("tmpfile is not a kind of the table")
	}
	var found bool
	for _, e := range c.AllEdges() {
		found = found || e.ID == "tmpfile:/var/cache/app" && strings.Join(e.Requires, ",") == "user:www"
	}
	if !found {
		t.Errorf("edges: %+v", c.AllEdges())
	}
}

func TestTmpfileErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"[tmpfile.\"tmp\"]\nage = \"1d\"\n", `a.toml:1: tmpfile "tmp": path must be absolute, clean and not /`},
		{"[tmpfile.\"/\"]\nage = \"1d\"\n", `a.toml:1: tmpfile "/": path must be absolute`},
		{"[tmpfile.\"/t\"]\nmode = \"0750\"\n", `a.toml:1: tmpfile "/t": expected age = "10d"`},
		{"[tmpfile.\"/t\"]\n\nage = \"10 days\"\n", `a.toml:3: tmpfile "/t": age = "10 days": expected a time span`},
		{"[tmpfile.\"/t\"]\nage = \"0d\"\n", `a.toml:2: tmpfile "/t": age = "0d": must be more than 0`},
		{"[tmpfile.\"/t\"]\nage = \"1d\"\nmode = \"rwx\"\n", `a.toml:3: tmpfile "/t": mode = "rwx"`},
		{"[tmpfile.\"/t\"]\naeg = \"1d\"\n", `a.toml:2: unknown key "tmpfile./t.aeg" (did you mean "age"?)`},
		{"[tmpfile.\"/t\"]\nage = \"1d\"\nrequires = [\"dir:/nope\"]\n", `a.toml:3: tmpfile:/t requires "dir:/nope", which is not defined`},
		{"[tmpfile.\"/t\"]\nage = \"1d\"\nnotify = [\"dir:/t\"]\n", `a.toml:3: tmpfile:/t: notify "dir:/t": expected service:NAME or exec:NAME`},
	} {
		_, err := loadString(t, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"10d": 240 * time.Hour, "12h": 12 * time.Hour, "1w 2d": 9 * 24 * time.Hour, "90": 90 * time.Second,
		"30min": 30 * time.Minute, "1h30m": 90 * time.Minute, "5s": 5 * time.Second, " 2hr ": 2 * time.Hour,
	} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", " ", "d", "1y", "-1d", "1.5d", "1d-", "0", "0s 0m", "99999999999999w", "1D"} {
		if got, err := parseAge(bad); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", bad, got)
		}
	}
}
