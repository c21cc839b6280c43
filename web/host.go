package web

import (
	"net"
	"strings"
)

// hostRule is what a request's Host header may name. A page of another
// site that got its name pointed at this machine (DNS rebinding) sends
// its own name as Host, so only names this page is known by are taken.
// The port is not compared: `ssh -L 9000:127.0.0.1:8080` puts another in.
type hostRule struct {
	names map[string]bool
	// anyIP: the page listens on every address (0.0.0.0, ::), and an
	// address literal cannot be rebound (only a name can).
	anyIP bool
}

// allowedHosts is the rule for a page listening on listen (HOST:PORT)
// that is also known by names.
func allowedHosts(listen string, names []string) hostRule {
	r := hostRule{names: map[string]bool{}}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	ip := net.ParseIP(host)
	switch {
	case host == "localhost" || (ip != nil && ip.IsLoopback()):
		for _, n := range []string{"localhost", "127.0.0.1", "::1"} {
			r.names[n] = true
		}
	case host == "" || (ip != nil && ip.IsUnspecified()):
		r.anyIP = true
	}
	if ip != nil {
		r.names[ip.String()] = true
	}
	for _, n := range names {
		r.names[normalHost(n)] = true
	}
	return r
}

// allows says whether a Host header names this page.
func (r hostRule) allows(header string) bool {
	h := normalHost(header)
	if h == "" {
		return false
	}
	if ip := net.ParseIP(h); ip != nil {
		return r.anyIP || r.names[ip.String()]
	}
	return r.names[h]
}

// normalHost is a Host's name without port or brackets, lower case.
func normalHost(s string) string {
	s = strings.TrimSpace(s)
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	return strings.TrimSuffix(strings.ToLower(s), ".")
}
