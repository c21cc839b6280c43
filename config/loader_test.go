package config

import (
	"errors"
	"strings"
	"testing"
)

// TestLoaderHelpers: on a host, [web] runs the unit program the loader
// names (a host has no /bin/unit), and [fleet] agent the unit-fleet it
// finds; not finding it is an error at the agent key, not a service that
// fails when it starts. The zero Loader is an image's /bin.
func TestLoaderHelpers(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", "[web]\nlisten = \"127.0.0.1:8080\"\n\n[fleet]\n\nagent = true\nurl = \"tls://10.0.2.2:4222\"\n")

	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Services[WebService].Exec[0]; got != "/bin/unit" {
		t.Errorf("image web exec = %q", got)
	}
	if got := c.Services[FleetService].Exec[0]; got != "/bin/unit-fleet" {
		t.Errorf("image fleet exec = %q", got)
	}

	found := Loader{Unit: "/home/me/bin/unit", Fleet: func() (string, error) { return "/home/me/bin/unit-fleet", nil }}
	c, err = found.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Services[WebService].Exec, " "); got != "/home/me/bin/unit web --listen 127.0.0.1:8080" {
		t.Errorf("host web exec = %q", got)
	}
	if got := c.Services[FleetService].Exec[0]; got != "/home/me/bin/unit-fleet" {
		t.Errorf("host fleet exec = %q", got)
	}

	missing := Loader{Unit: "/home/me/bin/unit", Fleet: func() (string, error) { return "", errors.New("unit-fleet is not in PATH") }}
	_, err = missing.LoadFiles(p)
	if want := p + ":6: [fleet] agent = true: unit-fleet is not in PATH"; err == nil || err.Error() != want {
		t.Fatalf("missing unit-fleet: got %v, want %s", err, want)
	}
}
