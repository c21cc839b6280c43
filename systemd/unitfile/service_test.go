package unitfile

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
)

func sys() syntax.Specifiers {
	sp := syntax.System()
	sp.Host = "box"
	return sp
}

func service(t *testing.T, name, body string) *Service {
	t.Helper()
	f, err := Parse("t.service", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Service(name, sys())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serviceErr(name, body string) error {
	f, err := Parse("t.service", []byte(body))
	if err != nil {
		return err
	}
	_, err = f.Service(name, sys())
	return err
}

func TestBooleans(t *testing.T) {
	for in, want := range map[string]bool{
		"yes": true, "no": false, "true": true, "false": false, "on": true, "off": false,
		"1": true, "0": false, "YES": true, "y": true, "n": false, "t": true, "f": false,
	} {
		s := service(t, "a.service", "[Service]\nPrivateTmp="+in+"\n")
		if s.PrivateTmp.V != want || s.PrivateTmp.Pos.Line != 2 {
			t.Errorf("PrivateTmp=%s: %+v, want %v at line 2", in, s.PrivateTmp, want)
		}
	}
	err := serviceErr("a.service", "[Service]\nPrivateTmp=maybe\n")
	if err == nil || !strings.Contains(err.Error(), "t.service:2: PrivateTmp=maybe: expected a boolean") {
		t.Errorf("error %v", err)
	}
}

func TestTimespans(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s":        90 * time.Second,
		"90":         90 * time.Second,
		"1min 30s":   90 * time.Second,
		"1min30s":    90 * time.Second,
		"2 min":      2 * time.Minute,
		"1.5s":       1500 * time.Millisecond,
		"500ms":      500 * time.Millisecond,
		"1h 2m 3sec": time.Hour + 2*time.Minute + 3*time.Second,
		"1d":         24 * time.Hour,
		"1w":         7 * 24 * time.Hour,
		"10us":       10 * time.Microsecond,
		"1M":         2629800 * time.Second,
		"1y":         31557600 * time.Second,
		"0":          0,
		"infinity":   syntax.Infinity,
		" infinity ": syntax.Infinity,
	} {
		got, err := syntax.ParseTimespan(in)
		if err != nil || got != want {
			t.Errorf("ParseTimespan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-5s", "5x", "12.34.56", "infinity 5", "s", "99999999999999999999"} {
		if got, err := syntax.ParseTimespan(in); err == nil {
			t.Errorf("ParseTimespan(%q) = %v, want an error", in, got)
		}
	}
	s := service(t, "a.service", "[Service]\nTimeoutSec=5\nTimeoutStopSec=1min 30s\nRestartSec=100ms\n")
	if s.TimeoutStartSec.V != 5*time.Second || s.TimeoutStopSec.V != 90*time.Second || s.TimeoutStopSec.Pos.Line != 3 || s.RestartSec.V != 100*time.Millisecond {
		t.Errorf("got start %v stop %v (line %d) restart %v", s.TimeoutStartSec.V, s.TimeoutStopSec.V, s.TimeoutStopSec.Pos.Line, s.RestartSec.V)
	}
}

func cmd(path string, argv ...string) Command { return Command{Path: path, Argv: argv} }

func TestExec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Command
	}{
		{`/bin/echo a b`, []Command{cmd("/bin/echo", "/bin/echo", "a", "b")}},
		{`/bin/echo "a b" 'c d' e\\f`, []Command{cmd("/bin/echo", "/bin/echo", "a b", "c d", `e\f`)}},
		{`/bin/echo a"b c"d`, []Command{cmd("/bin/echo", "/bin/echo", "ab cd")}},
		{`/bin/echo "a\"b" \x41 \t \s`, []Command{cmd("/bin/echo", "/bin/echo", `a"b`, "A", "\t", " ")}},
		{`/bin/sh -c 'dmesg | tac'`, []Command{cmd("/bin/sh", "/bin/sh", "-c", "dmesg | tac")}},
		{`echo one ; echo "two two"`, []Command{cmd("echo", "echo", "one"), cmd("echo", "echo", "two two")}},
		{`echo / >/dev/null & \; ls`, []Command{cmd("echo", "echo", "/", ">/dev/null", "&", ";", "ls")}},
		{`/bin/echo ";" \; x`, []Command{cmd("/bin/echo", "/bin/echo", ";", ";", "x")}},
		{`/bin/echo a;b`, []Command{cmd("/bin/echo", "/bin/echo", "a;b")}},
		{`/usr//bin/../bin/x`, []Command{cmd("/usr/bin/x", "/usr//bin/../bin/x")}},
		{`/bin/echo %n %i %I %p %t/x %% %S %C %L %h %u %U`, []Command{cmd("/bin/echo", "/bin/echo",
			`getty@tty\x2d1.service`, `tty\x2d1`, "tty-1", "getty", "/run/x", "%", "/var/lib", "/var/cache", "/var/log", "/root", "root", "0")}},
		{`/bin/echo "%N" %P`, []Command{cmd("/bin/echo", "/bin/echo", `getty@tty\x2d1`, "getty")}},
	} {
		s := service(t, `getty@tty\x2d1.service`, "[Service]\nExecStart="+tc.in+"\n")
		for i := range s.ExecStart {
			if s.ExecStart[i].Pos != (config.Pos{File: "t.service", Line: 2}) {
				t.Errorf("%s: Pos %v", tc.in, s.ExecStart[i].Pos)
			}
			s.ExecStart[i].Pos = config.Pos{}
		}
		if !reflect.DeepEqual(s.ExecStart, tc.want) {
			t.Errorf("ExecStart=%s\n got  %+v\n want %+v", tc.in, s.ExecStart, tc.want)
		}
	}
}

func TestExecPrefixes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Command
	}{
		{`-/bin/false`, Command{Path: "/bin/false", Argv: []string{"/bin/false"}, IgnoreFailure: true}},
		{`@/bin/sh mysh -c x`, Command{Path: "/bin/sh", Argv: []string{"mysh", "-c", "x"}, SeparateArgv0: true}},
		{`:/bin/echo $X`, Command{Path: "/bin/echo", Argv: []string{"/bin/echo", "$X"}, NoEnvExpand: true}},
		{`+/bin/x`, Command{Path: "/bin/x", Argv: []string{"/bin/x"}, Privileged: true}},
		{`!/bin/x`, Command{Path: "/bin/x", Argv: []string{"/bin/x"}, NoSetuid: true}},
		{`!!/bin/x`, Command{Path: "/bin/x", Argv: []string{"/bin/x"}, AmbientMagic: true}},
		{`-@:+/bin/x y`, Command{Path: "/bin/x", Argv: []string{"y"}, IgnoreFailure: true, SeparateArgv0: true, NoEnvExpand: true, Privileged: true}},
		{`@-/bin/x y`, Command{Path: "/bin/x", Argv: []string{"y"}, IgnoreFailure: true, SeparateArgv0: true}},
		{`"-/bin/x"`, Command{Path: "/bin/x", Argv: []string{"/bin/x"}, IgnoreFailure: true}},
	} {
		s := service(t, "a.service", "[Service]\nExecStartPre="+tc.in+"\n")
		if len(s.ExecStartPre) != 1 {
			t.Fatalf("%s: %+v", tc.in, s.ExecStartPre)
		}
		got := s.ExecStartPre[0]
		got.Pos = config.Pos{}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ExecStartPre=%s\n got  %+v\n want %+v", tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		`-`:                    "empty program",
		`@/bin/x`:              "no argv[0]",
		`/bin/"x`:              "unterminated",
		`bin/x`:                "neither an absolute path nor a file name",
		`/bin/`:                "is a directory",
		`/bin/x \q`:            "unknown escape",
		`/bin/x %Z`:            "unknown specifier %Z",
		`+!/bin/x`:             "neither an absolute path nor a file name",
		`/bin/x e\ f`:          "unknown escape",
		`/bin/x "\;"`:          "unknown escape",
		`/bin/x\\y`:            "quotes, backslashes",
		"/bin/x \\\n":          "",
		`/bin/echo %i`:         "",
		`/bin/x "unterminated`: "unterminated",
	} {
		err := serviceErr("a.service", "[Service]\nExecStart="+in+"\n")
		if want == "" {
			if err != nil {
				t.Errorf("ExecStart=%s: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "t.service:2: ExecStart=") {
			t.Errorf("ExecStart=%s: error %v, want %q at t.service:2", in, err, want)
		}
	}
}

func TestExecLists(t *testing.T) {
	s := service(t, "a.service", "[Service]\nExecStartPre=/bin/a\nExecStartPre=-/bin/b\nExecStop=/bin/x\nExecStop=\nExecStop=/bin/y\nExecReload=/bin/kill -HUP $MAINPID\nExecStopPost=/bin/z\nExecStartPost=/bin/w\n")
	paths := func(cs []Command) string {
		var p []string
		for _, c := range cs {
			p = append(p, c.Path)
		}
		return strings.Join(p, " ")
	}
	for got, want := range map[string]string{
		paths(s.ExecStartPre):  "/bin/a /bin/b",
		paths(s.ExecStop):      "/bin/y",
		paths(s.ExecReload):    "/bin/kill",
		paths(s.ExecStopPost):  "/bin/z",
		paths(s.ExecStartPost): "/bin/w",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if s.ExecStop[0].Pos.Line != 6 || s.ExecStartPre[1].Pos.Line != 3 {
		t.Errorf("lines %d %d, want 6 3", s.ExecStop[0].Pos.Line, s.ExecStartPre[1].Pos.Line)
	}
}

func TestEnvironmentAndExpand(t *testing.T) {
	s := service(t, "a.service", `[Service]
Environment="ONE=one" 'TWO=two two'
Environment=THREE=  FOUR="a \"b\"" FIVE=%t
ExecStart=echo $ONE $TWO ${TWO} $$ a${ONE}b $UNSET ${UNSET}x $ONE/x ${OPEN
ExecStart=/bin/echo $FILE "$QUOTED"
`)
	var env []string
	for _, v := range s.Environment {
		env = append(env, v.Name+"="+v.Value)
	}
	want := []string{"ONE=one", "TWO=two two", "THREE=", `FOUR=a "b"`, "FIVE=/run"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("Environment = %q, want %q", env, want)
	}
	if s.Environment[2].Pos.Line != 3 {
		t.Errorf("THREE at line %d, want 3", s.Environment[2].Pos.Line)
	}
	vars := map[string]string{"FILE": `x "y z" w`, "QUOTED": "q"}
	for _, v := range s.Environment {
		vars[v.Name] = v.Value
	}
	got := s.ExecStart[0].Expand(vars)
	wantArgv := []string{"echo", "one", "two", "two", "two two", "$", "aoneb", "x", "${OPEN"}
	if !reflect.DeepEqual(got, wantArgv) {
		t.Errorf("Expand = %q, want %q", got, wantArgv)
	}
	got = s.ExecStart[1].Expand(vars)
	wantArgv = []string{"/bin/echo", "x", "y z", "w", "q"}
	if !reflect.DeepEqual(got, wantArgv) {
		t.Errorf("Expand = %q, want %q", got, wantArgv)
	}

	file, err := ParseEnvironmentFile("f", []byte("ONE=from-file\nX=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	merged := Env(s.Environment, file, []Var{{Name: "X", Value: "2"}})
	if merged["ONE"] != "from-file" || merged["TWO"] != "two two" || merged["X"] != "2" {
		t.Errorf("Env = %q: files override Environment=, later files earlier ones", merged)
	}

	s = service(t, "a.service", "[Service]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n")
	if len(s.Environment) != 1 || s.Environment[0].Name != "B" {
		t.Errorf("after reset: %+v", s.Environment)
	}
	for _, bad := range []string{"NOEQUALS", "1X=a", "A-B=c", `"A=unterminated`} {
		if err := serviceErr("a.service", "[Service]\nEnvironment="+bad+"\n"); err == nil || !strings.Contains(err.Error(), "t.service:2: Environment=") {
			t.Errorf("Environment=%s: error %v", bad, err)
		}
	}
}

func TestEnvironmentFile(t *testing.T) {
	s := service(t, "foo@bar.service", "[Service]\nEnvironmentFile=/etc/default/foo\nEnvironmentFile=-/etc/default/%i\n")
	want := []Val[EnvFile]{
		{EnvFile{Path: "/etc/default/foo"}, config.Pos{File: "t.service", Line: 2}},
		{EnvFile{Path: "/etc/default/bar", Optional: true}, config.Pos{File: "t.service", Line: 3}},
	}
	if !reflect.DeepEqual(s.EnvironmentFiles, want) {
		t.Errorf("EnvironmentFiles = %+v", s.EnvironmentFiles)
	}
	if err := serviceErr("a.service", "[Service]\nEnvironmentFile=relative\n"); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("relative EnvironmentFile: %v", err)
	}

	data := "# comment\n; comment\nA=1\nexport_ok=2\n  B = spaced value  \nC='single $x \\n'\nD=\"double \\\"q\\\" \\$x \\n\"\nE=unquoted\\ esc\\\ncontinued\nbad line\nF=\n# comment \\\ncontinued comment\nG=\"multi\nline\"\n1BAD=x\nH=last"
	vars, err := ParseEnvironmentFile("/etc/default/foo", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	lines := map[string]int{}
	for _, v := range vars {
		got[v.Name] = v.Value
		lines[v.Name] = v.Pos.Line
	}
	wantVars := map[string]string{
		"A": "1", "export_ok": "2", "B": "spaced value", "C": `single $x \n`, "D": `double "q" $x \n`,
		"E": "unquoted esccontinued", "F": "", "G": "multi\nline", "H": "last",
	}
	if !reflect.DeepEqual(got, wantVars) {
		t.Errorf("env file = %q\nwant %q", got, wantVars)
	}
	if lines["A"] != 3 || lines["G"] != 14 || vars[0].Pos.File != "/etc/default/foo" {
		t.Errorf("lines %v", lines)
	}
	if _, err := ParseEnvironmentFile("big", make([]byte, 2<<20)); err == nil {
		t.Error("a 2 MiB env file parsed")
	}
}

func TestTemplates(t *testing.T) {
	if got, ok := TemplateOf("foo@bar.service"); !ok || got != "foo@.service" {
		t.Errorf("TemplateOf = %q %v", got, ok)
	}
	if _, ok := TemplateOf("foo.service"); ok {
		t.Error("foo.service has a template")
	}
	n, err := ParseName(`systemd-fsck@dev-disk-by\x2dlabel-root.service`)
	if err != nil || n.Prefix != "systemd-fsck" || n.Instance != `dev-disk-by\x2dlabel-root` || n.Suffix != "service" {
		t.Errorf("ParseName = %+v, %v", n, err)
	}
	if got := Unescape(n.Instance); got != "dev/disk/by-label/root" {
		t.Errorf("Unescape = %q", got)
	}
	if err := serviceErr("foo@.service", "[Service]\nExecStart=/bin/x\n"); err == nil || !strings.Contains(err.Error(), "is a template") {
		t.Errorf("template as a service: %v", err)
	}
	for _, bad := range []string{"foo", "foo.", ".service", "a b.service", "@x.service", "a@b@c.service"} {
		if _, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) accepted", bad)
		}
	}
	s := service(t, "foo@bar.service", "[Service]\nUser=%i\nRuntimeDirectory=foo-%i\nWorkingDirectory=%S/%p\nPIDFile=%t/%N.pid\n")
	if s.User.V != "bar" || s.RuntimeDirectory[0].V != "foo-bar" || s.WorkingDirectory.V != "/var/lib/foo" || s.PIDFile.V != "/run/foo@bar.pid" {
		t.Errorf("got %q %q %q %q", s.User.V, s.RuntimeDirectory[0].V, s.WorkingDirectory.V, s.PIDFile.V)
	}
}

func TestTypedView(t *testing.T) {
	s := service(t, "haproxy.service", `[Unit]
Description=HAProxy Load Balancer %i
Documentation=man:haproxy(1)
Documentation=file:/usr/share/doc/haproxy/configuration.txt.gz
After=network-online.target rsyslog.service
Wants=network-online.target
Requires=a.service
BindsTo=b.service
Conflicts=c.service
Before=d.service
After=
ConditionPathExists=/etc/haproxy/haproxy.cfg

[Service]
Type=notify
PIDFile=/run/haproxy.pid
RemainAfterExit=no
User=haproxy
Group=haproxy
SupplementaryGroups=ssl-cert adm
DynamicUser=no
WorkingDirectory=-~
RootDirectory=/srv/root
RuntimeDirectory=haproxy haproxy/sub
RuntimeDirectoryMode=2775
StateDirectory=haproxy
StateDirectoryMode=0750
CacheDirectory=haproxy
CacheDirectoryMode=700
LogsDirectory=haproxy
LogsDirectoryMode=0755
ConfigurationDirectory=haproxy
ConfigurationDirectoryMode=0555
RuntimeDirectoryPreserve=restart
Restart=always
KillMode=mixed
KillSignal=SIGUSR1
LimitNOFILE=1024:524288
LimitCORE=infinity
AmbientCapabilities=CAP_NET_BIND_SERVICE cap_net_raw
CapabilityBoundingSet=~CAP_SYS_ADMIN
NoNewPrivileges=yes
PrivateTmp=true
ProtectSystem=full
ProtectHome=yes
ReadWritePaths=/var/lib/haproxy -/var/log +-/srv
ReadOnlyPaths=/etc
BindPaths=/a:/b -/c\:d:/e:rbind
BindReadOnlyPaths=/dev/log "/x y"
SystemCallFilter=@system-service

[Install]
WantedBy=multi-user.target
Alias=lb.service

[X-Extra]
Foo=bar
`)
	l := func(n int) config.Pos { return config.Pos{File: "t.service", Line: n} }
	strs := func(vs []Val[string]) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.V)
		}
		return out
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("Description", s.Description, Val[string]{"HAProxy Load Balancer %i", l(2)})
	check("Documentation", strs(s.Documentation), []string{"man:haproxy(1)", "file:/usr/share/doc/haproxy/configuration.txt.gz"})
	check("After", strs(s.After), []string{"network-online.target", "rsyslog.service"})
	check("After line", s.After[1].Pos, l(5))
	check("Wants", strs(s.Wants), []string{"network-online.target"})
	check("Requires", strs(s.Requires), []string{"a.service"})
	check("BindsTo", strs(s.BindsTo), []string{"b.service"})
	check("Conflicts", strs(s.Conflicts), []string{"c.service"})
	check("Before", strs(s.Before), []string{"d.service"})
	check("Type", s.Type, Val[string]{"notify", l(15)})
	check("PIDFile", s.PIDFile.V, "/run/haproxy.pid")
	check("RemainAfterExit", s.RemainAfterExit, Val[bool]{false, l(17)})
	check("User", s.User, Val[string]{"haproxy", l(18)})
	check("Group", s.Group.V, "haproxy")
	check("SupplementaryGroups", strs(s.SupplementaryGroups), []string{"ssl-cert", "adm"})
	check("DynamicUser", s.DynamicUser, Val[bool]{false, l(21)})
	check("WorkingDirectory", s.WorkingDirectory.V, "-~")
	check("RootDirectory", s.RootDirectory.V, "/srv/root")
	check("RuntimeDirectory", strs(s.RuntimeDirectory), []string{"haproxy", "haproxy/sub"})
	check("RuntimeDirectoryMode", s.RuntimeDirectoryMode, Val[fs.FileMode]{0o775 | fs.ModeSetgid, l(25)})
	check("StateDirectory", strs(s.StateDirectory), []string{"haproxy"})
	check("StateDirectoryMode", s.StateDirectoryMode.V, fs.FileMode(0o750))
	check("CacheDirectory", strs(s.CacheDirectory), []string{"haproxy"})
	check("CacheDirectoryMode", s.CacheDirectoryMode.V, fs.FileMode(0o700))
	check("LogsDirectory", strs(s.LogsDirectory), []string{"haproxy"})
	check("LogsDirectoryMode", s.LogsDirectoryMode.V, fs.FileMode(0o755))
	check("ConfigurationDirectory", strs(s.ConfigurationDirectory), []string{"haproxy"})
	check("ConfigurationDirectoryMode", s.ConfigurationDirectoryMode.V, fs.FileMode(0o555))
	check("RuntimeDirectoryPreserve", s.RuntimeDirectoryPreserve.V, "restart")
	check("Restart", s.Restart, Val[string]{"always", l(35)})
	check("KillMode", s.KillMode.V, "mixed")
	check("KillSignal", s.KillSignal.V, "SIGUSR1")
	check("LimitNOFILE", s.LimitNOFILE, Val[Limit]{Limit{Soft: 1024, Hard: 524288}, l(38)})
	check("Limits", s.Limits, map[string]Val[string]{"LimitCORE": {"infinity", l(39)}})
	check("AmbientCapabilities", s.AmbientCapabilities, []Val[CapSet]{{CapSet{Names: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}}, l(40)}})
	check("CapabilityBoundingSet", s.CapabilityBoundingSet, []Val[CapSet]{{CapSet{Invert: true, Names: []string{"CAP_SYS_ADMIN"}}, l(41)}})
	check("NoNewPrivileges", s.NoNewPrivileges.V, true)
	check("PrivateTmp", s.PrivateTmp, Val[bool]{true, l(43)})
	check("ProtectSystem", s.ProtectSystem.V, "full")
	check("ProtectHome", s.ProtectHome.V, "yes")
	check("ReadWritePaths", strs(s.ReadWritePaths), []string{"/var/lib/haproxy", "-/var/log", "+-/srv"})
	check("ReadOnlyPaths", strs(s.ReadOnlyPaths), []string{"/etc"})
	check("BindPaths", strs(s.BindPaths), []string{"/a:/b", `-/c\:d:/e:rbind`})
	check("BindReadOnlyPaths", s.BindReadOnlyPaths, []Val[string]{{"/dev/log", l(49)}, {"/x y", l(49)}})
	check("WantedBy", s.WantedBy, []Val[string]{{"multi-user.target", l(53)}})
	check("Alias", strs(s.Alias), []string{"lb.service"})
	check("Unsupported", s.Unsupported, []Key{
		k("Unit", "ConditionPathExists", "/etc/haproxy/haproxy.cfg", 12),
		k("Service", "SystemCallFilter", "@system-service", 50),
		k("X-Extra", "Foo", "bar", 57),
	})
}

func TestTypedViewErrors(t *testing.T) {
	for in, want := range map[string]string{
		"Type=bogus":                      "Type=bogus: expected one of simple, exec, forking",
		"Restart=sometimes":               "expected one of no, on-success",
		"KillMode=all":                    "expected one of control-group",
		"KillSignal=SIGFOO":               "expected a signal name",
		"RuntimeDirectory=/abs":           "expected a relative path",
		"StateDirectory=../up":            "expected a relative path",
		"RuntimeDirectoryMode=0999":       "bad mode",
		"StateDirectoryMode=17777":        "at most 07777",
		"LimitNOFILE=lots":                "bad limit",
		"LimitNOFILE=10:5":                "soft limit 10 above hard limit 5",
		"AmbientCapabilities=CAP_FLY":     "unknown capability",
		"ProtectSystem=maybe":             "expected a boolean or one of full, strict",
		"ProtectHome=nah":                 "expected a boolean or one of read-only, tmpfs",
		"RuntimeDirectoryPreserve=always": "expected yes, no or restart",
		"PIDFile=run/x.pid":               "not an absolute path",
		"WorkingDirectory=rel":            "not an absolute path",
		"TimeoutStopSec=soon":             "bad time span",
		"User=%Z":                         "unknown specifier %Z",
		"ReadWritePaths=/ok rel":          `"rel" is not an absolute path`,
		"ReadOnlyPaths=-+rel":             `"rel" is not an absolute path`,
		"BindPaths=rel:/x":                "with an absolute source",
	} {
		err := serviceErr("a.service", "[Service]\nType=simple\n"+in+"\n")
		if err == nil || !strings.Contains(err.Error(), "t.service:3: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q at t.service:3", in, err, want)
		}
	}
	// Every bad key is reported.
	err := serviceErr("a.service", "[Service]\nType=x\nRestart=y\n")
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("two bad keys: %v", err)
	}
	// An unset specifier field is an error, not an empty string.
	f, _ := Parse("t.service", []byte("[Service]\nUser=%m\n"))
	if _, err := f.Service("a.service", syntax.System()); err == nil || !strings.Contains(err.Error(), "specifier %m has no value here") {
		t.Errorf("%%m with no machine id: %v", err)
	}
}

func TestResets(t *testing.T) {
	s := service(t, "a.service", `[Unit]
After=a.target
After=
Documentation=man:x
Documentation=
[Service]
SupplementaryGroups=a
SupplementaryGroups=
ReadWritePaths=/x
ReadWritePaths=
RuntimeDirectory=x
RuntimeDirectory=
EnvironmentFile=/x
EnvironmentFile=
User=x
User=
[Install]
WantedBy=a.target
WantedBy=
WantedBy=b.target
`)
	if len(s.After) != 1 {
		t.Errorf("After= reset dependencies (systemd cannot): %+v", s.After)
	}
	if len(s.Documentation)+len(s.SupplementaryGroups)+len(s.ReadWritePaths)+len(s.RuntimeDirectory)+len(s.EnvironmentFiles) != 0 || s.User.Set() {
		t.Errorf("not reset: %+v %+v %+v %+v %+v %+v", s.Documentation, s.SupplementaryGroups, s.ReadWritePaths, s.RuntimeDirectory, s.EnvironmentFiles, s.User)
	}
	if len(s.WantedBy) != 1 || s.WantedBy[0].V != "b.target" {
		t.Errorf("WantedBy = %+v", s.WantedBy)
	}
}

func TestCaps(t *testing.T) {
	all := []string{"CAP_A", "CAP_B", "CAP_C"}
	set := func(inv bool, names ...string) Val[CapSet] { return Val[CapSet]{V: CapSet{Invert: inv, Names: names}} }
	for _, tc := range []struct {
		name    string
		sets    []Val[CapSet]
		initial []string
		want    []string
	}{
		{"none", nil, all, all},
		{"first replaces", []Val[CapSet]{set(false, "CAP_A")}, all, []string{"CAP_A"}},
		{"later adds", []Val[CapSet]{set(false, "CAP_A"), set(false, "CAP_B")}, nil, []string{"CAP_A", "CAP_B"}},
		{"later ~ removes", []Val[CapSet]{set(false, "CAP_A", "CAP_B"), set(true, "CAP_A")}, nil, []string{"CAP_B"}},
		{"empty resets", []Val[CapSet]{set(false, "CAP_A"), set(false)}, nil, nil},
	} {
		got := Caps(tc.sets, tc.initial)
		var names []string
		for _, c := range append(all, "CAP_CHOWN") {
			if got[c] {
				names = append(names, c)
			}
		}
		if !reflect.DeepEqual(names, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, names, tc.want)
		}
	}
	// "~" first: every capability but the named one.
	got := Caps([]Val[CapSet]{set(true, "CAP_SYS_ADMIN")}, nil)
	if got["CAP_SYS_ADMIN"] || !got["CAP_CHOWN"] || len(got) != len(AllCaps())-1 {
		t.Errorf("~CAP_SYS_ADMIN: %d caps", len(got))
	}
}
