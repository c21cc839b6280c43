package probe

import (
	"net"

	"github.com/unit-os/unit/config"
)

// Short reads the short forms a service's health and ready take, by
// config's grammar (config.ParseHealth; tcp and exec read the same in
// ready): tcp:PORT (a connection to 127.0.0.1:PORT), http:PORT/PATH (a
// GET there answered with any 2xx or 3xx status) and exec:CMD
// (`/bin/sh -c CMD` exits 0). ok is false for anything else (check:NAME
// names a [check.NAME] instead, which says more about the answer).
func Short(spec string) (s Spec, ok bool) {
	sp, err := config.ParseHealth(spec)
	if err != nil {
		return Spec{}, false
	}
	return FromShort(sp)
}

// FromShort is the probe for an already parsed short spec, for callers
// that parse it themselves (the supervisor, with config.ParseReady). ok
// is false for kinds that are not a probe (check, notify, fd, ...).
func FromShort(sp config.ShortSpec) (s Spec, ok bool) {
	switch sp.Kind {
	case "tcp":
		return Spec{TCP: net.JoinHostPort("127.0.0.1", sp.Port)}, true
	case "http":
		return Spec{HTTP: "http://" + net.JoinHostPort("127.0.0.1", sp.Port) + "/" + sp.Path, AnySuccess: true}, true
	case "exec":
		return Spec{Exec: []string{"/bin/sh", "-c", sp.Arg}}, true
	}
	return Spec{}, false
}
