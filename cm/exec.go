package cm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"

	"github.com/unit-os/unit/config"
)

// CommandRunner runs argv to completion with env (KEY=VALUE) in dir,
// writing its output to out, and reports whether it exited 0 and, if not,
// how it ended. PID 1 passes one that goes through its reaper (the only
// caller of wait4); the default uses os/exec, for `unit apply --once`.
type CommandRunner func(ctx context.Context, argv, env []string, dir string, out *os.File) (ok bool, how string, err error)

// WithRunner sets how exec resources run commands.
func WithRunner(r CommandRunner) Option { return func(e *Engine) { e.env.run = r } }

func runWithExec(ctx context.Context, argv, env []string, dir string, out *os.File) (bool, string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, out, out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, "exit 0", nil
	case errors.As(err, &ee):
		return false, ee.ProcessState.String(), nil
	}
	return false, "", err
}

// execRes is an [exec.NAME]: a command run to reach a state. Guarded by
// creates (a path it makes) and unless (a command that says it is done);
// a refresh_only exec runs only when something that notifies it changed.
type execRes struct {
	x   config.Exec
	env *env
}

func newExec(x *config.Exec, b *builder) *execRes { return &execRes{x: *x, env: b.env} }

func (r *execRes) ID() string         { return "exec:" + r.x.Name }
func (r *execRes) Notifies() []string { return r.x.Notify }
func (r *execRes) Same(o Resource) bool {
	x, ok := o.(*execRes)
	return ok && reflect.DeepEqual(r.x, x.x)
}

// Watches creates: deleting what the command made runs it again.
func (r *execRes) Watches() []string {
	if r.x.Creates != "" && !r.x.RefreshOnly {
		return []string{r.x.Creates}
	}
	return nil
}

func (r *execRes) Check(ctx context.Context) ([]Delta, error) {
	if r.x.RefreshOnly {
		return nil, nil
	}
	return r.guard(ctx)
}

// guard says whether the command must run: creates missing and unless fails.
func (r *execRes) guard(ctx context.Context) ([]Delta, error) {
	if r.x.Creates != "" {
		_, err := os.Lstat(r.x.Creates)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(r.x.Unless) > 0 {
		ok, _, _, err := r.run(ctx, r.x.Unless)
		if err != nil {
			return nil, fmt.Errorf("unless: %w", err)
		}
		if ok {
			return nil, nil
		}
	}
	return []Delta{{Attr: "run", New: strings.Join(r.x.Command, " ")}}, nil
}

func (r *execRes) Apply(ctx context.Context) ([]Delta, error) {
	what, err := r.Check(ctx)
	if err != nil || len(what) == 0 {
		return nil, err
	}
	return r.exec(ctx, what)
}

// Refresh runs the command (a notify), still honouring the guards.
func (r *execRes) Refresh(ctx context.Context) ([]Delta, error) {
	what, err := r.guard(ctx)
	if err != nil || len(what) == 0 {
		return nil, err
	}
	return r.exec(ctx, what)
}

func (r *execRes) exec(ctx context.Context, what []Delta) ([]Delta, error) {
	ok, how, out, err := r.run(ctx, r.x.Command)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", r.x.Name, err)
	}
	if !ok {
		return nil, fmt.Errorf("exec %s: %s: %s", r.x.Name, how, out)
	}
	return what, nil
}

// run runs argv with the timeout; out is the tail of its output.
func (r *execRes) run(ctx context.Context, argv []string) (ok bool, how, out string, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.x.Timeout.Duration)
	defer cancel()
	f, err := os.CreateTemp("", "unit-exec-*")
	if err != nil {
		return false, "", "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	run := r.env.run
	if run == nil {
		run = runWithExec
	}
	ok, how, err = run(ctx, argv, r.environ(), r.x.Dir, f)
	if err != nil {
		return false, "", "", err
	}
	return ok, how, tail(f, 2048), nil
}

// environ is a clean environment: PATH plus the configured variables, sorted.
func (r *execRes) environ() []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	for k, v := range r.x.Env {
		if k == "PATH" {
			env[0] = "PATH=" + v
			continue
		}
		env = append(env, k+"="+v)
	}
	sort.Strings(env[1:])
	return env
}

func tail(f *os.File, n int64) string {
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, fi.Size()-n)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return string(bytes.TrimSpace(buf))
}

// RunsLong: a command may run up to its timeout (a longRunner).
func (r *execRes) RunsLong() bool { return true }
