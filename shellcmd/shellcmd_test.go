package shellcmd

import (
	"reflect"
	"testing"
)

func TestCommands(t *testing.T) {
	src := `#!/bin/sh
set -e
helper() { cp --remove-destination --preserve "$1" "$2"; }
if [ -x /usr/sbin/unbound-anchor ]; then
	setpriv --reuid unbound -- /usr/sbin/unbound-anchor -a /var/lib/unbound/root.key || true
fi
case "$1" in
start) for f in a b; do helper $f /tmp; done ;;
esac
v=$(sed -n 1p /etc/x | tr a b)
if command -v resolvconf >/dev/null; then echo "$v"; fi
exec /usr/sbin/daemon "$@"
"$prog" --computed
setpriv again
`
	got, err := Commands("helper", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Name: "cp", Line: 3},
		{Name: "setpriv", Line: 5},
		{Name: "sed", Line: 10},
		{Name: "tr", Line: 10},
		{Name: "resolvconf", Line: 11, Probe: true},
		{Name: "/usr/sbin/daemon", Line: 12},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commands =\n%+v\nwant\n%+v", got, want)
	}
}

func TestCommandsBashAndErrors(t *testing.T) {
	got, err := Commands("b", []byte("#!/bin/bash\n[[ -n $x ]] && logger -t x hi\narr=(1 2)\n"))
	if err != nil || len(got) != 1 || got[0].Name != "logger" || got[0].Line != 2 {
		t.Errorf("bash: %+v %v", got, err)
	}
	if _, err := Commands("bad", []byte("if then fi (\n")); err == nil {
		t.Error("a script that does not parse: no error")
	}
}

func FuzzCommands(f *testing.F) {
	f.Add([]byte("#!/bin/sh\nf() { ls; }\nf | grep x\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		Commands("fuzz", src)
	})
}
