package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func validateService(s *Service) Errors {
	var errs Errors
	bad := complainer(&errs, s.At, fmt.Sprintf("service %q", s.Name))
	s.execAt = s.At("exec")
	if len(s.Exec) == 0 || s.Exec[0] == "" {
		bad("exec", "exec is required: a command as a list, e.g. exec = [\"/bin/httpd\", \"-f\"]")
	}
	if s.Oneshot && s.Restart == "" {
		s.Restart = RestartNever // as systemd's Type=oneshot
	}
	switch s.Restart {
	case "":
		s.Restart = RestartAlways
	case RestartAlways, RestartOnFailure, RestartNever:
	default:
		bad("restart", "restart = %q: expected one of always, on-failure, never", s.Restart)
	}
	if err := checkReady(s.Ready); err != nil {
		bad("ready", "ready = %q: %v", s.Ready, err)
	}
	if s.Ready == "" {
		s.Ready = "started"
	}
	if s.StopSignal != "" {
		if _, ok := Signals[strings.TrimPrefix(strings.ToUpper(s.StopSignal), "SIG")]; !ok {
			bad("stop_signal", "stop_signal = %q: expected a signal name such as SIGTERM, SIGINT, SIGQUIT, SIGHUP", s.StopSignal)
		}
	}
	if s.TTY != "" && s.TTY != "console" && (!strings.HasPrefix(s.TTY, "/dev/") || filepath.Clean(s.TTY) != s.TTY) {
		bad("tty", "tty = %q: expected a device under /dev (e.g. \"/dev/ttyS0\") or \"console\"", s.TTY)
	}
	if s.Dir != "" && !filepath.IsAbs(s.Dir) {
		bad("dir", "dir = %q: expected an absolute path", s.Dir)
	}
	if s.Limits.Pids < 0 || s.Limits.CPUWeight < 0 || s.Limits.IOWeight < 0 {
		bad("limits", "limits must not be negative")
	}
	if w := s.Limits.CPUWeight; w != 0 && (w < 1 || w > 10000) {
		bad("limits", "cpu_weight = %d: expected 1..10000", w)
	}
	if w := s.Limits.IOWeight; w != 0 && (w < 1 || w > 10000) {
		bad("limits", "io_weight = %d: expected 1..10000", w)
	}
	validateServiceExt(s, bad)
	validateServiceUnit(s, bad)
	services := s.Requires[:0]
	for _, r := range s.Requires {
		switch kind, _, ok := strings.Cut(r, ":"); {
		case ok && kind != "service" && IsKind(kind):
			s.After = append(s.After, r)
		case kind == "service":
			services = append(services, r)
		default:
			// A bare name is accepted as shorthand for service:NAME.
			services = append(services, "service:"+r)
		}
	}
	s.Requires = services
	return errs
}

// checkReady validates a readiness spec: started | tcp:PORT | exec:CMD | notify | fd:N.
func checkReady(r string) error {
	switch {
	case r == "" || r == "started" || r == "notify" || r == "forking":
		return nil
	case strings.HasPrefix(r, "tcp:"):
		p, err := strconv.Atoi(strings.TrimPrefix(r, "tcp:"))
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("expected tcp:PORT with PORT in 1..65535")
		}
		return nil
	case strings.HasPrefix(r, "fd:"):
		n, err := strconv.Atoi(strings.TrimPrefix(r, "fd:"))
		if err != nil || n < 3 {
			return fmt.Errorf("expected fd:N with N >= 3")
		}
		return nil
	case strings.HasPrefix(r, "exec:"):
		if strings.TrimSpace(strings.TrimPrefix(r, "exec:")) == "" {
			return fmt.Errorf("expected exec:COMMAND")
		}
		return nil
	case strings.HasPrefix(r, "check:"):
		return checkCheckRef(r)
	}
	return fmt.Errorf("expected one of started, notify, forking, fd:N, tcp:PORT, exec:CMD, check:NAME")
}

func validateFile(f *File) Errors {
	var errs Errors
	bad := complainer(&errs, f.At, fmt.Sprintf("file %q", f.Name))
	if !isCleanAbs(f.Name) {
		bad("", "path must be absolute and clean (e.g. \"/etc/motd\")")
	}
	switch f.Ensure {
	case "", "present":
		f.Ensure = "present"
		n := 0
		for _, set := range []bool{f.Content != nil, f.Source != "", f.Template != nil} {
			if set {
				n++
			}
		}
		if n == 0 {
			bad("", "expected content = \"...\", template = \"...\" or source = \"PATH\" (or ensure = \"absent\")")
		}
		if n > 1 {
			bad("source", "content, template and source are mutually exclusive")
		}
		if f.Template != nil {
			errs = append(errs, checkTemplate(f)...)
		}
	case "absent":
		if f.Content != nil || f.Source != "" || f.Template != nil {
			bad("ensure", "ensure = \"absent\" takes no content or source")
		}
	default:
		bad("ensure", "ensure = %q: expected present or absent", f.Ensure)
	}
	f.FileMode = 0o644
	if f.Mode != "" {
		m, err := strconv.ParseUint(f.Mode, 8, 32)
		if err != nil || m > 0o7777 {
			bad("mode", "mode = %q: expected an octal mode such as \"0644\"", f.Mode)
		} else {
			f.FileMode = uint32(m)
		}
	}
	return errs
}

// validateRefs checks what spans resources, once every file is merged:
// each kind's references (requires, notify, sources), then dependency
// cycles.
func validateRefs(c *Config) Errors {
	var errs Errors
	for _, k := range kinds {
		errs = append(errs, k.checkRefs(c)...)
	}
	errs = append(errs, samePath(c)...)
	errs = append(errs, serviceCycle(c)...)
	return append(errs, edgeCycle(c)...)
}

// samePath: a file, a dir and a link are each a whole path; two of them on
// one path would undo each other on every apply.
func samePath(c *Config) Errors {
	first := map[string]*Meta{}
	var metas []*Meta
	for _, f := range All[File](c) {
		metas = append(metas, &f.Meta)
	}
	for _, d := range All[Dir](c) {
		metas = append(metas, &d.Meta)
	}
	for _, l := range All[Link](c) {
		metas = append(metas, &l.Meta)
	}
	var errs Errors
	for _, m := range metas {
		p := filepath.Clean(m.Name)
		if prev, ok := first[p]; ok {
			errs = append(errs, Error{m.Pos, fmt.Sprintf("%s and %s (at %s) are the same path: keep one", m.ID(), prev.ID(), prev.Pos)})
			continue
		}
		first[p] = m
	}
	return errs
}

// serviceRefs: what a service requires is defined (services in Requires,
// other kinds in After).
func serviceRefs(c *Config, s *Service) Errors {
	var errs Errors
	for _, r := range append(append([]string{}, s.Requires...), s.After...) {
		if strings.HasPrefix(r, "check:") && c.Has(r) {
			errs = append(errs, Error{s.At("requires"), fmt.Sprintf("service %q requires %q: a check is a question, not something to start after; use ready = %q", s.Name, r, r)})
			continue
		}
		if !c.Has(r) {
			errs = append(errs, Error{s.At("requires"), fmt.Sprintf("service %q requires %q, which is not defined", s.Name, r)})
		}
	}
	for _, k := range []struct{ key, spec string }{{"health", s.Health}, {"ready", s.Ready}} {
		if name, ok := strings.CutPrefix(k.spec, "check:"); ok && c.Checks[name] == nil {
			errs = append(errs, Error{s.At(k.key), fmt.Sprintf("service %q: %s = %q: no [check.%s] is defined", s.Name, k.key, k.spec, name)})
		}
	}
	return errs
}

// fileRefs: requires, the source (a path or a defined package), notify.
func fileRefs(c *Config, f *File) Errors {
	errs := checkRequires(c, &f.Meta, f.Requires)
	if strings.HasPrefix(f.Source, "package:") {
		errs = append(errs, packageSource(c, &f.Meta, f.Source)...)
	} else if f.Source != "" && !filepath.IsAbs(f.Source) {
		errs = append(errs, Error{f.At("source"), fmt.Sprintf("%s: source %q: expected an absolute path or package:NAME/PATH", f.ID(), f.Source)})
	}
	for _, n := range f.Notify {
		if !Refreshable(n) {
			errs = append(errs, Error{f.At("notify"), fmt.Sprintf("file %q: notify %q: expected service:NAME or exec:NAME", f.Name, n)})
		} else if !c.Has(n) {
			errs = append(errs, Error{f.At("notify"), fmt.Sprintf("file %q notifies %q, which is not defined", f.Name, n)})
		}
	}
	return errs
}

// serviceCycle reports one requires-cycle between services.
func serviceCycle(c *Config) Errors {
	names := slices.Sorted(maps.Keys(c.Services))
	ids := make([]string, len(names))
	for i, name := range names {
		ids[i] = "service:" + name
	}
	cyc := FindCycle(ids, func(id string) []string {
		var next []string
		for _, r := range c.Services[strings.TrimPrefix(id, "service:")].Requires {
			dep := strings.TrimPrefix(r, "service:")
			if _, ok := c.Services[dep]; ok {
				next = append(next, "service:"+dep)
			}
		}
		return next
	})
	if cyc == nil {
		return nil
	}
	s := c.Services[strings.TrimPrefix(cyc[0], "service:")]
	return Errors{{s.At("requires"), "dependency cycle: " + strings.Join(cyc, " -> ")}}
}
