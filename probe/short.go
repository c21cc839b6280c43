package probe

import (
	"net"
	"strings"
)

// Short reads the short forms a service's health and ready take:
// tcp:PORT (a connection to 127.0.0.1:PORT), http:PORT/PATH (a GET there
// answered with any 2xx or 3xx status) and exec:CMD (`/bin/sh -c CMD`
// exits 0). ok is false for anything else (check:NAME names a
// [check.NAME] instead, which says more about the answer).
func Short(spec string) (s Spec, ok bool) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "tcp":
		return Spec{TCP: net.JoinHostPort("127.0.0.1", arg)}, arg != ""
	case "http":
		port, path, _ := strings.Cut(arg, "/")
		return Spec{HTTP: "http://" + net.JoinHostPort("127.0.0.1", port) + "/" + path, AnySuccess: true}, port != ""
	case "exec":
		return Spec{Exec: []string{"/bin/sh", "-c", arg}}, arg != ""
	}
	return Spec{}, false
}
