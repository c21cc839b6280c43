package config

import (
	"strings"
	"testing"
	"time"
)

// A type error no longer stops the check: every table and resource is
// decoded on its own, and each mistake is said in plain words at its line.
func TestEveryErrorInOneRun(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", `[service.web]
exec = "sleep 100"
nosuchkey = 1

[service.db]
exec = ["x"]
restrat = "always"

[services.api]
exec = ["z"]

[file."/etc/x"]
content = "x"
mode = 644

[service.ok]
exec = ["y"]
restart = 5
`)
	_, err := Load(dir)
	if err == nil {
		t.Fatal("loaded")
	}
	msg := err.Error()
	for _, want := range []string{
		p + `:2: service.web.exec: expected a list of strings, got a string; write exec = ["sleep", "100"]`,
		p + `:3: unknown key "service.web.nosuchkey"`,
		p + `:7: unknown key "service.db.restrat" (did you mean "restart"?)`,
		p + `:9: unknown key "services" (did you mean "service"?)`,
		p + `:14: file."/etc/x".mode: expected a string, got an integer; write modes as octal strings: mode = "0644"`,
		p + `:18: service.ok.restart: expected a string, got an integer; quote it: restart = "5"`,
	} {
		if !strings.Contains(msg, want+"\n") && !strings.HasSuffix(msg, want) {
			t.Errorf("errors lack\n  %s\ngot:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != 6 {
		t.Errorf("%d errors, want 6:\n%s", n, msg)
	}
}

// Syntax errors keep their line and get a hint for the usual mistake.
func TestSyntaxErrorHints(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", "[file.\"/x\"]\ncontent = \"x\"\nmode = 0644\n")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), p+`:3: integers cannot have leading zeroes; write modes as strings: mode = "0644"`) {
		t.Errorf("got %v", err)
	}
}

// A bare number of seconds is a duration (as in systemd), quoted or not.
func TestDurationSeconds(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[service.a]\nexec = [\"x\"]\nready_timeout = 90\nstop_timeout = \"15\"\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Services["a"]; s.ReadyTimeout.Duration != 90*time.Second || s.StopTimeout.Duration != 15*time.Second {
		t.Errorf("ready_timeout %v stop_timeout %v", s.ReadyTimeout, s.StopTimeout)
	}
}

// A file, a dir or a link on one path is an error naming both places.
func TestSamePathIsAnError(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.toml", "[file.\"/srv/x\"]\ncontent = \"x\"\n\n[dir.\"/srv/x/\"]\n\n[link.\"/srv/y\"]\ntarget = \"/srv/x\"\n\n[dir.\"/srv/y\"]\n")
	_, err := Load(dir)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`dir:/srv/x/ and file:/srv/x (at ` + p + `:1) are the same path`,
		`link:/srv/y and dir:/srv/y (at ` + p + `:9) are the same path`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

// [system] console = "shell" adds a console shell service; a service of
// that name already there is an error; other values are refused.
func TestSystemConsole(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[system]\nconsole = \"shell\"\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Services[ConsoleService]
	if s == nil || s.TTY != "console" || s.Exec[0] != "/bin/sh" || s.Restart != RestartAlways {
		t.Fatalf("console service = %+v", s)
	}
	dir2 := t.TempDir()
	p := write(t, dir2, "a.toml", "[system]\nconsole = \"shell\"\n[service.console]\nexec = [\"x\"]\n")
	if _, err := Load(dir2); err == nil || !strings.Contains(err.Error(), p+`:3: service "console": [system] console = "shell" (at `+p+`:1) defines it`) {
		t.Errorf("own console service: %v", err)
	}
	dir3 := t.TempDir()
	write(t, dir3, "a.toml", "[system]\nconsole = \"getty\"\n[service.x]\nexec = [\"x\"]\ntty = \"/etc/passwd\"\n")
	_, err = Load(dir3)
	if err == nil || !strings.Contains(err.Error(), `console = "getty": expected "shell"`) || !strings.Contains(err.Error(), `tty = "/etc/passwd": expected a device under /dev`) {
		t.Errorf("bad console and tty: %v", err)
	}
}

func TestControlGroupChecked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[system]\ncontrol_group = \"Bad Group\"\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `control_group = "Bad Group": expected a group name or number`) {
		t.Errorf("got %v", err)
	}
}

// TestUpdateSettingsChecked: an update's trial and the slot size are
// bounded, and a good pair loads.
func TestUpdateSettingsChecked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[system]\ntrial = \"1s\"\nslot_size = \"1M\"\n")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), `a.toml:2: [system]: trial = "1s": expected 10s to 24h`) || !strings.Contains(err.Error(), `a.toml:3: [system]: slot_size = 1048576 bytes: expected at least 16M`) {
		t.Errorf("got %v", err)
	}
	good := t.TempDir()
	write(t, good, "a.toml", "[system]\ntrial = \"90s\"\nslot_size = \"1G\"\n")
	c, err := Load(good)
	if err != nil || c.System.Trial.Duration != 90*time.Second || c.System.SlotSize != 1<<30 {
		t.Errorf("good: %v %+v", err, c)
	}
}

// TestCompressionChecked: [system] compression is "fast" or "release",
// anything else an error at its line.
func TestCompressionChecked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[system]\nhostname = \"a\"\ncompression = \"best\"\n")
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), `a.toml:3: [system]: compression = "best": expected "fast" (default) or "release"`) {
		t.Errorf("got %v", err)
	}
	good := t.TempDir()
	write(t, good, "a.toml", "[system]\ncompression = \"release\"\n")
	if c, err := Load(good); err != nil || c.System.Compression != CompressionRelease {
		t.Errorf("good: %v %+v", err, c)
	}
}

// TestWebChecked: a status page reachable from other machines needs a
// password file; [web] adds the unit-web service that runs it.
func TestWebChecked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", "[web]\nlisten = \"0.0.0.0:8080\"\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `a.toml:2: [web]: listen = "0.0.0.0:8080" is reachable from other machines: auth = `) {
		t.Errorf("no auth: %v", err)
	}
	write(t, dir, "a.toml", "[web]\nlisten = \"8080\"\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `expected HOST:PORT`) {
		t.Errorf("no host: %v", err)
	}
	write(t, dir, "a.toml", "[web]\nlisten = \"127.0.0.1:8080\"\n")
	c, err := Load(dir)
	if err != nil || c.Services[WebService] == nil || strings.Join(c.Services[WebService].Exec, " ") != "/bin/unit web --listen 127.0.0.1:8080" {
		t.Fatalf("loopback: %v %+v", err, c)
	}
	write(t, dir, "a.toml", "[web]\nlisten = \"0.0.0.0:8080\"\nauth = \"/etc/unit/web.auth\"\ncontrol = true\n")
	c, err = Load(dir)
	if err != nil || strings.Join(c.Services[WebService].Exec, " ") != "/bin/unit web --listen 0.0.0.0:8080 --auth /etc/unit/web.auth --control" || c.Services[WebService].Ready != "tcp:8080" {
		t.Fatalf("with auth: %v %+v", err, c.Services[WebService])
	}
	// Buttons without a password: every local user reaches loopback.
	write(t, dir, "a.toml", "[web]\nlisten = \"127.0.0.1:8080\"\ncontrol = true\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `a.toml:3: [web]: control = true needs auth = `) {
		t.Errorf("control without auth on loopback: %v", err)
	}
	write(t, dir, "a.toml", "[web]\nlisten = \"127.0.0.1:8080\"\nauth = \"/etc/unit/web.auth\"\ncontrol = true\nhosts = [\"status.example.net\", \"192.0.2.7\"]\n")
	c, err = Load(dir)
	if err != nil || strings.Join(c.Services[WebService].Exec, " ") != "/bin/unit web --listen 127.0.0.1:8080 --auth /etc/unit/web.auth --control --hosts status.example.net,192.0.2.7" {
		t.Fatalf("with hosts: %v %+v", err, c.Services[WebService])
	}
	write(t, dir, "a.toml", "[web]\nlisten = \"127.0.0.1:8080\"\nhosts = [\"ok.example\", \"evil.example:80\"]\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `a.toml:3: [web]: hosts: "evil.example:80": expected a host name`) {
		t.Errorf("a host with a port: %v", err)
	}
}

// TestFleetChecked: [fleet] takes tls:// brokers (plain nats:// only on
// loopback), fact names for groups, and adds the agent's service.
func TestFleetChecked(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ toml, want string }{
		{"[fleet]\nagent = true\nurl = \"nats://10.0.0.1:4222\"\n", `a.toml:3: [fleet]: url = "nats://10.0.0.1:4222": nats:// is plain text`},
		{"[fleet]\nagent = true\nurl = \"tls://fleet\"\n", `a.toml:3: [fleet]: url = "tls://fleet": expected tls://HOST:PORT`},
		{"[fleet]\nagent = true\nurl = \"tls://a:4222,http://b:80\"\n", `scheme "http"`},
		{"[fleet]\nagent = true\ngroups_from = [\"role\", \"../x\"]\n", `a.toml:3: [fleet]: groups_from: "../x" is not a fact name`},
		{"[fleet]\nurl = \"tls://a:4222\"\n", `a.toml:1: [fleet]: url and groups_from need agent = true`},
		{"[fleet]\nagent = true\n[service.unit-fleet]\nexec = [\"/bin/true\"]\n", `[fleet] (at `},
	} {
		write(t, dir, "a.toml", c.toml)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.toml, err, c.want)
		}
	}
	write(t, dir, "a.toml", "[fleet]\nagent = true\nurl = \"tls://10.0.2.2:4222, nats://127.0.0.1:4222\"\ngroups_from = [\"role\", \"dc\"]\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Services[FleetService].Exec, " "); got != "/bin/unit-fleet agent --state /var/lib/unit-fleet --url tls://10.0.2.2:4222,nats://127.0.0.1:4222 --groups-from role,dc" {
		t.Errorf("exec: %s", got)
	}
	write(t, dir, "a.toml", "[fleet]\n")
	if c, err := Load(dir); err != nil || c.Services[FleetService] != nil {
		t.Errorf("without agent: %v %+v", err, c.Services)
	}
}
