package maintscript

import (
	"fmt"
	"strings"
	"testing"
)

func scan(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Scan("postinst", "pkg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func users(s *Script) string {
	var b []string
	for _, u := range s.Users {
		b = append(b, fmt.Sprintf("%d:%s home=%s shell=%s group=%s own=%v gecos=%q", u.Pos.Line, u.Name, u.Home, u.Shell, u.Group, u.OwnGroup, u.Gecos))
	}
	for _, g := range s.Groups {
		b = append(b, fmt.Sprintf("%d:group %s", g.Pos.Line, g.Name))
	}
	for _, m := range s.Members {
		b = append(b, fmt.Sprintf("%d:member %s %s", m.Pos.Line, m.User, m.Group))
	}
	return strings.Join(b, "\n")
}

func paths(s *Script) string {
	var b []string
	for _, p := range s.Paths {
		b = append(b, fmt.Sprintf("%d:%s %s:%s %s dir=%v r=%v", p.Pos.Line, p.Path, p.Owner, p.Group, p.Mode, p.Dir, p.Recursive))
	}
	return strings.Join(b, "\n")
}

func skipped(s *Script) string {
	var b []string
	for _, k := range s.Skipped {
		b = append(b, fmt.Sprintf("%d:%s (%s)", k.Pos.Line, k.Command, k.Why))
	}
	return strings.Join(b, "\n")
}

func check(t *testing.T, what, got, want string) {
	t.Helper()
	if got != strings.TrimSpace(want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, got, strings.TrimSpace(want))
	}
}

// The shape of haproxy's postinst: one adduser over two lines, the
// debhelper glue around it, an upgrade-only branch.
func TestSystemUserWithOwnGroup(t *testing.T) {
	s := scan(t, `#!/bin/sh
set -e

adduser --system --disabled-password --disabled-login --home /var/lib/web \
        --no-create-home --quiet --force-badname --group web

if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] ; then
	if [ -x "$(command -v systemd-tmpfiles)" ]; then
		systemd-tmpfiles ${DPKG_ROOT:+--root="$DPKG_ROOT"} --create web.conf >/dev/null || true
	fi
	deb-systemd-helper unmask 'web.service' >/dev/null || true
fi
dpkg-maintscript-helper mv_conffile /etc/a /etc/b 1.5.3-2\~ -- "$@"
if [ -n "$2" ]; then
	if dpkg --compare-versions "$2" lt "1.8.0-1~"; then
		invoke-rc.d web restart || true
	fi
	chown -R old:old /var/lib/old
fi
exit 0
`)
	check(t, "users", users(s), `4:web home=/var/lib/web shell= group=web own=true gecos=""`)
	check(t, "paths", paths(s), ``)
	check(t, "skipped", skipped(s), ``)
}

// chrony's shape: a loop over paths with a test on the loop variable,
// each guarded by "no override yet".
func TestLoopAndStatoverride(t *testing.T) {
	s := scan(t, `#!/bin/sh
set -e
case "$1" in
    configure)
        adduser --force-badname \
                --system \
                --group \
                --quiet \
                --gecos "Time daemon" \
                --home /var/lib/timed \
                --no-create-home _timed
        for d in /var/lib/timed /var/log/timed /etc/timed/timed.keys; do
            if ! dpkg-statoverride --list "$d" >/dev/null; then
                if [ "$d" = "/etc/timed/timed.keys" ]; then
                    dpkg-statoverride --update --add root _timed 0640 "$d"
                else
                    dpkg-statoverride --update --add _timed _timed 0750 "$d"
                fi
            fi
        done
    ;;
    abort-upgrade)
        chown nobody /nowhere
    ;;
esac
`)
	check(t, "users", users(s), `5:_timed home=/var/lib/timed shell= group=_timed own=true gecos="Time daemon"`)
	check(t, "paths", paths(s), `
17:/var/lib/timed _timed:_timed 0750 dir=false r=false
17:/var/log/timed _timed:_timed 0750 dir=false r=false
15:/etc/timed/timed.keys root:_timed 0640 dir=false r=false`)
}

// redis's and postgresql's shapes: variables, $quiet set by a test,
// membership, install -d, chmod, a function called under a condition.
func TestVariablesMembersDirs(t *testing.T) {
	s := scan(t, `#!/bin/sh
set -e
USER="kv"
GROUP="$USER"
CONFFILE="/etc/kv/kv.conf"
[ "$DPKG_MAINTSCRIPT_PACKAGE" ] && quiet="--quiet"
make_user() {
	addgroup --system $quiet db
	adduser --system $quiet --home /var/lib/db --no-create-home \
		--shell /bin/bash --ingroup db --gecos "DB administrator" db
	adduser $quiet db ssl-cert
}
action="$1"
if [ "$action" = configure ]; then
	make_user
	if ! getent passwd kv >/dev/null; then
		useradd -r -d /var/lib/kv -s /usr/sbin/nologin kv
	fi
	if ! dpkg-statoverride --list ${CONFFILE} >/dev/null 2>&1; then
		dpkg-statoverride --update --add ${USER} ${GROUP} 640 ${CONFFILE}
	fi
	install -d -m 2775 -o db -g db /var/run/db
	mkdir -p /var/log/db
	chown root:db /var/log/db
	chmod 1775 /var/log/db
fi
`)
	check(t, "users", users(s), `
9:db home=/var/lib/db shell=/bin/bash group=db own=false gecos="DB administrator"
17:kv home=/var/lib/kv shell=/usr/sbin/nologin group=kv own=true gecos=""
8:group db
11:member db ssl-cert`)
	check(t, "paths", paths(s), `
20:/etc/kv/kv.conf kv:kv 640 dir=false r=false
22:/var/run/db db:db 2775 dir=true r=false
23:/var/log/db :  dir=true r=false
24:/var/log/db root:db  dir=false r=false
25:/var/log/db : 1775 dir=false r=false`)
	check(t, "skipped", skipped(s), ``)
}

// What unit does not reproduce is listed with its line, as written.
func TestSkippedListed(t *testing.T) {
	s := scan(t, `#!/bin/sh
ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519
chmod u+x /usr/lib/x
rm -f /etc/old.conf
ucf --three-way "$new" /etc/x
useradd alice
for f in /etc/*.conf; do chown a "$f"; done
chown "$(whoami)" /var/lib/x
`)
	check(t, "skipped", skipped(s), `
2:ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519 (not one of the idioms unit reproduces)
3:chmod u+x /usr/lib/x (a symbolic mode)
4:rm -f /etc/old.conf (not one of the idioms unit reproduces)
5:ucf --three-way "$new" /etc/x (arguments computed at run time)
6:useradd alice (not a system user (useradd -r NAME))
7:for f in /etc/*.conf; do chown a "$f"; done (a loop over values computed at run time)
8:chown "$(whoami)" /var/lib/x (arguments computed at run time)`)
}

// ucf and cp of one of the package's files are copies.
func TestCopies(t *testing.T) {
	s := scan(t, `#!/bin/sh
ucf --three-way /usr/share/timed/timed.conf /etc/timed/timed.conf
ucfr timed /etc/timed/timed.conf
if [ ! -e /var/www/html/index.html ]; then
	cp /usr/share/web/index.html /var/www/html/index.html
fi
cp -r /usr/share/a /etc/
`)
	var got []string
	for _, c := range s.Copies {
		got = append(got, fmt.Sprintf("%d:%s->%s", c.Pos.Line, c.From, c.To))
	}
	check(t, "copies", strings.Join(got, "\n"), "2:/usr/share/timed/timed.conf->/etc/timed/timed.conf\n5:/usr/share/web/index.html->/var/www/html/index.html")
	check(t, "skipped", skipped(s), "7:cp -r /usr/share/a /etc/ (option -r)")
}

// openssh-server's shape: a template copied into a mktemp file, edited,
// then installed with ucf; nginx's: a default site enabled with ln -s.
func TestTempTemplateAndLinks(t *testing.T) {
	s := scan(t, `#!/bin/sh
create_config() {
	new_config="$(mktemp)"
	cp -aZ /usr/share/srv/srv_config "$new_config"
	sed -i 's/^#X .*/X yes/' "$new_config"
	ucf --three-way --debconf-ok "$new_config" /etc/srv/srv_config
	rm -f "$new_config"
}
create_config
other=$(mktemp)
ucf "$other" /etc/srv/other
ln -s /etc/web/sites-available/default /etc/web/sites-enabled/default
ln /etc/a /etc/b
`)
	var got []string
	for _, c := range s.Copies {
		got = append(got, fmt.Sprintf("%d:%s->%s", c.Pos.Line, c.From, c.To))
	}
	for _, l := range s.Links {
		got = append(got, fmt.Sprintf("%d:%s=>%s", l.Pos.Line, l.Path, l.Target))
	}
	check(t, "copies and links", strings.Join(got, "\n"), "6:/usr/share/srv/srv_config->/etc/srv/srv_config\n12:/etc/web/sites-enabled/default=>/etc/web/sites-available/default")
	check(t, "skipped", skipped(s), `5:sed -i 's/^#X .*/X yes/' "$new_config" (not one of the idioms unit reproduces)
7:rm -f "$new_config" (not one of the idioms unit reproduces)
11:ucf "$other" /etc/srv/other (installs a temporary file whose content is made at run time)
13:ln /etc/a /etc/b (a hard link)`)
}

// A function called twice lists what it cannot reproduce once.
func TestSkippedOnce(t *testing.T) {
	s := scan(t, "#!/bin/sh\nkey() {\n\tssh-keygen -f \"$1\"\n\tadduser --system \"$1\"\n}\nkey a\nkey b\n")
	check(t, "users", users(s), "4:a home=/nonexistent shell= group= own=false gecos=\"\"\n4:b home=/nonexistent shell= group= own=false gecos=\"\"")
	check(t, "skipped", skipped(s), `3:ssh-keygen -f "$1" (not one of the idioms unit reproduces)`)
}

func TestNotShell(t *testing.T) {
	s := scan(t, "#!/usr/bin/perl\nsystem('adduser');\n")
	if len(s.Users) != 0 || len(s.Skipped) != 1 || s.Skipped[0].Why != "not a shell script" {
		t.Errorf("%+v", s)
	}
}

// Hostile scripts end: size refused, recursion and loops bounded.
func TestBounds(t *testing.T) {
	if _, err := Scan("postinst", "p", []byte("#!/bin/sh\n"+strings.Repeat("#", MaxScript))); err == nil {
		t.Error("an oversized script was read")
	}
	s := scan(t, "#!/bin/sh\nf() { f; f; }\nf\nadduser --system after\n")
	if len(s.Users) != 1 || s.Users[0].Name != "after" {
		t.Errorf("after recursion: %s", users(s))
	}
	words := strings.Repeat("a ", 300)
	s = scan(t, "#!/bin/sh\nfor i in "+words+"; do for j in "+words+"; do chown x /a; done; done\n")
	if len(s.Paths) > maxSteps || len(s.Skipped) == 0 {
		t.Errorf("%d paths, skipped %q", len(s.Paths), skipped(s))
	}
	if _, err := Scan("postinst", "p", []byte("#!/bin/sh\nif then fi\n")); err == nil || !strings.Contains(err.Error(), "postinst:") {
		t.Errorf("a syntax error: %v", err)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte("#!/bin/sh\nadduser --system --group x\nchown x:x /var/lib/x\n"))
	f.Add([]byte("#!/bin/sh\nfor d in a b; do case $d in a) mkdir -p /a;; esac; done\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Scan("postinst", "p", b)
		if err != nil {
			return
		}
		for _, p := range s.Paths {
			if !strings.HasPrefix(p.Path, "/") {
				t.Fatalf("relative path %q", p.Path)
			}
		}
	})
}
