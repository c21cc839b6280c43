package config

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
)

// Web is the [web] table: the status page, off unless listen is set.
type Web struct {
	// Listen is HOST:PORT, e.g. "0.0.0.0:8080" or "127.0.0.1:8080".
	Listen string `toml:"listen"`
	// Auth is a file holding USER:PASSWORD (a managed file, mode 0600);
	// required unless Listen is loopback.
	Auth string `toml:"auth"`
	// Control adds restart, stop and start buttons (read-only otherwise);
	// it needs Auth, loopback or not: every local user reaches loopback.
	Control bool `toml:"control"`
	// Hosts are the names the page answers to besides its listen address
	// (a request naming another Host is refused: DNS rebinding).
	Hosts []string `toml:"hosts"`
	Pos   Pos      `toml:"-"`
}

// WebService is the service [web] adds: `unit web`, a client of the
// control socket like any other, so PID 1 runs none of it.
const WebService = "unit-web"

// UnitProgram is the unit program in an image (PID 1's).
const UnitProgram = "/bin/unit"

func validateWeb(w *Web, at func(key string) Pos) Errors {
	var errs Errors
	bad := complainer(&errs, at, "[web]")
	if w.Listen == "" {
		if w.Auth != "" || w.Control || len(w.Hosts) > 0 {
			bad("listen", "auth, control and hosts need listen = \"HOST:PORT\"")
		}
		return errs
	}
	if w.Control && w.Auth == "" {
		bad("control", "control = true needs auth = \"/etc/unit/web.auth\" (a file holding USER:PASSWORD, mode 0600), loopback or not: without it every local user, and a web page after DNS rebinding, could stop services")
	}
	for _, h := range w.Hosts {
		if !hostName(h) {
			bad("hosts", "hosts: %q: expected a host name or address without a port, e.g. \"status.example.net\"", h)
		}
	}
	host, port, err := net.SplitHostPort(w.Listen)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 1 || n > 65535 || (host != "" && host != "localhost" && net.ParseIP(host) == nil) {
		bad("listen", "listen = %q: expected HOST:PORT with an IP address, e.g. \"0.0.0.0:8080\" or \"127.0.0.1:8080\"", w.Listen)
		return errs
	}
	switch {
	case w.Auth == "" && !IsLoopback(w.Listen):
		bad("listen", "listen = %q is reachable from other machines: auth = \"/etc/unit/web.auth\" (a file holding USER:PASSWORD, mode 0600) is required", w.Listen)
	case w.Auth != "" && (!strings.HasPrefix(w.Auth, "/") || path.Clean(w.Auth) != w.Auth):
		bad("auth", "auth = %q: expected a clean absolute path", w.Auth)
	}
	return errs
}

// addWeb adds the status page's service a system asks for, run as the
// unit program at unit ("": UnitProgram).
func addWeb(c *Config, unit string) Errors {
	w := c.Web
	if w.Listen == "" {
		return nil
	}
	if prev := c.Services[WebService]; prev != nil {
		return Errors{{prev.Pos, fmt.Sprintf("service %q: [web] (at %s) defines it; rename this one", WebService, w.Pos)}}
	}
	if unit == "" {
		unit = UnitProgram
	}
	exec := []string{unit, "web", "--listen", w.Listen}
	if w.Auth != "" {
		exec = append(exec, "--auth", w.Auth)
	}
	if w.Control {
		exec = append(exec, "--control")
	}
	if len(w.Hosts) > 0 {
		exec = append(exec, "--hosts", strings.Join(w.Hosts, ","))
	}
	s := &Service{Exec: exec, Restart: RestartAlways, Ready: "tcp:" + w.Listen[strings.LastIndex(w.Listen, ":")+1:]}
	s.Meta = Meta{Name: WebService, Pos: w.Pos, kind: "service"}
	c.Services[WebService] = s
	return nil
}

// IsLoopback says whether a listen address HOST:PORT only takes local
// connections.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// hostName says whether s is a DNS name (letters, digits, '-', dots) or
// an IP address.
func hostName(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
