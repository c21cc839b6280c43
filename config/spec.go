package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ShortSpec is a service's ready or health in its short form, KIND:ARG.
// The grammar is read here only: config checks it, probe and the
// supervisor run what it says.
type ShortSpec struct {
	Kind string // "started", "notify", "forking", "fd", "tcp", "http", "exec" or "check"
	Arg  string // after the colon, as written: N, PORT, PORT/PATH, CMD, NAME
	Port string // tcp, http: the port as written, in 1..65535
	Path string // http: what follows PORT/ (no leading slash)
	FD   int    // fd: N, 3 or more
}

// ParseReady reads ready: started (or empty), notify, forking, fd:N, tcp:PORT,
// exec:CMD or check:NAME (the check's existence is serviceRefs's).
func ParseReady(r string) (ShortSpec, error) {
	s, colon := splitSpec(r)
	switch {
	case !colon && (r == "" || r == "started" || r == "notify" || r == "forking"):
		if r == "" {
			s.Kind = "started"
		}
		return s, nil
	case !colon:
	case s.Kind == "tcp":
		if !validPort(s.Arg) {
			return s, fmt.Errorf("expected tcp:PORT with PORT in 1..65535")
		}
		s.Port = s.Arg
		return s, nil
	case s.Kind == "fd":
		n, err := strconv.Atoi(s.Arg)
		if err != nil || n < 3 {
			return s, fmt.Errorf("expected fd:N with N >= 3")
		}
		s.FD = n
		return s, nil
	case s.Kind == "exec", s.Kind == "check":
		return s, checkArg(s)
	}
	return ShortSpec{}, fmt.Errorf("expected one of started, notify, forking, fd:N, tcp:PORT, exec:CMD, check:NAME")
}

// ParseHealth reads health: http:PORT/PATH, tcp:PORT, exec:CMD or
// check:NAME. tcp and exec read as in ready.
func ParseHealth(h string) (ShortSpec, error) {
	s, colon := splitSpec(h)
	switch {
	case !colon:
	case s.Kind == "tcp" || s.Kind == "http":
		s.Port = s.Arg
		if s.Kind == "http" {
			s.Port, s.Path, _ = strings.Cut(s.Arg, "/")
		}
		if !validPort(s.Port) {
			return s, fmt.Errorf("expected a port in 1..65535, got %q", s.Port)
		}
		return s, nil
	case s.Kind == "exec", s.Kind == "check":
		return s, checkArg(s)
	}
	return ShortSpec{}, fmt.Errorf("expected http:PORT/PATH, tcp:PORT, exec:CMD or check:NAME")
}

// splitSpec cuts KIND:ARG; colon is false for a bare word (started,
// notify), which is then the kind.
func splitSpec(spec string) (s ShortSpec, colon bool) {
	s.Kind, s.Arg, colon = strings.Cut(spec, ":")
	return s, colon
}

// checkArg: exec:CMD and check:NAME need something after the colon.
func checkArg(s ShortSpec) error {
	if strings.TrimSpace(s.Arg) == "" {
		if s.Kind == "exec" {
			return fmt.Errorf("expected exec:COMMAND")
		}
		return fmt.Errorf("expected check:NAME")
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
