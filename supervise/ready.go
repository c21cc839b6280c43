package supervise

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/probe"
)

// readiness is one service start's readiness check. Probes (tcp, exec) are
// the only timers here and run only while the service is starting; notify
// and fd: are pushed by the service itself.
type readiness struct {
	childEnds []*os.File
	run       func(ctx context.Context, ready func())
	ctx       context.Context
	cancelCtx context.CancelFunc
	cleanup   []func()
	s         *Supervisor
	v         *service
	gen       int
	immediate bool // ready once spawned
}

func (r *readiness) closeChildEnds() {
	for _, f := range r.childEnds {
		f.Close()
	}
	r.childEnds = nil
}

func (r *readiness) cancel() {
	r.cancelCtx()
	r.closeChildEnds()
	for _, f := range r.cleanup {
		f()
	}
	r.cleanup = nil
}

// start begins waiting for readiness; the service's probeStop cancels it.
func (r *readiness) start() {
	r.v.probeStop = r.cancel
	if r.immediate {
		return
	}
	ready := func() { r.s.post(func() { r.s.becameReady(r.v, r.gen) }) }
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.s.log.Error("readiness probe panicked", "name", r.v.name, "panic", p)
			}
		}()
		r.run(r.ctx, ready)
	}()
}

// prepareReady sets up what the child needs for its readiness spec (an fd,
// an env var) before it is spawned.
func (s *Supervisor) prepareReady(v *service, gen int, env *[]string, files *[]uintptr) (*readiness, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &readiness{ctx: ctx, cancelCtx: cancel, s: s, v: v, gen: gen}
	spec := v.cfg.Ready
	var sp config.ShortSpec
	if !v.cfg.Oneshot {
		var err error
		// Load validated the spec: an error here is a bug, reported as a
		// failed start, never a panic.
		if sp, err = v.readySpec(); err != nil {
			cancel()
			return nil, err
		}
	}
	switch {
	case v.cfg.Oneshot, sp.Kind == "forking":
		// Ready means done (a oneshot), or the first process exited 0 and
		// the pid file named the main one: exited sees the exit.
		r.run = func(ctx context.Context, ready func()) {}
	case sp.Kind == "started":
		r.immediate = true // startProcess marks it running; no goroutine, no message
	case sp.Kind == "tcp", sp.Kind == "exec":
		p, ok := probe.FromShort(sp)
		if !ok {
			cancel()
			return nil, fmt.Errorf("unsupported ready = %q", spec)
		}
		p.Timeout = time.Second // a try; pollReady tries again
		run := s.probeRunner(append([]string{}, *env...))
		r.run = func(ctx context.Context, ready func()) {
			pollReady(ctx, ready, func() bool { return probe.Run(ctx, p, run) == nil })
		}
	case sp.Kind == "check":
		name := sp.Arg
		penv := append([]string{}, *env...)
		r.run = func(ctx context.Context, ready func()) {
			pollReady(ctx, ready, func() bool { return s.runCheck(ctx, name, penv) == nil })
		}
	case sp.Kind == "fd":
		n := sp.FD // 3 or more: 0-2 are the output
		if n > 255 {
			cancel()
			return nil, fmt.Errorf("unsupported ready = %q", spec)
		}
		rd, wr, err := os.Pipe()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("readiness pipe: %w", err)
		}
		for len(*files) <= n {
			*files = append(*files, ^uintptr(0)) // closed in the child
		}
		(*files)[n] = wr.Fd()
		r.childEnds = append(r.childEnds, wr)
		r.cleanup = append(r.cleanup, func() { rd.Close() })
		r.run = func(ctx context.Context, ready func()) {
			// s6 notification-fd: a newline on fd N means ready.
			if _, err := bufio.NewReader(rd).ReadString('\n'); err == nil {
				ready()
			}
		}
	case sp.Kind == "notify":
		conn, path, err := s.notifySocket(v.name)
		if err != nil {
			cancel()
			return nil, err
		}
		*env = append(*env, notifyEnv(v, path)...)
		r.cleanup = append(r.cleanup, func() { conn.Close(); os.Remove(path) })
		r.run = func(ctx context.Context, ready func()) { s.readNotify(conn, v, gen) }
	default:
		cancel()
		return nil, fmt.Errorf("unsupported ready = %q", spec)
	}
	return r, nil
}

// pollReady calls check until it succeeds or ctx ends. The waits between
// tries start at 5 ms (a daemon usually binds within milliseconds) and
// grow by half up to 50 ms: readiness is seen at most half the time
// waited so far plus 5 ms, and never more than 50 ms, after it comes (a
// requires chain adds that per link), and a slow start costs one probe (a
// fork and exec for exec:) per 50 ms.
func pollReady(ctx context.Context, ready func(), check func() bool) {
	const first, most = 5 * time.Millisecond, 50 * time.Millisecond
	wait := first
	for ctx.Err() == nil {
		if check() {
			ready()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*3/2, most)
	}
}

// notifySocket binds the sd_notify datagram socket for one service start.
func (s *Supervisor) notifySocket(name string) (*net.UnixConn, string, error) {
	dir := filepath.Join(s.stateDir, "notify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("notify socket dir: %w", err)
	}
	path := filepath.Join(dir, name+".sock")
	os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, "", fmt.Errorf("notify socket: %w", err)
	}
	// The service may run as another user; it must be able to send.
	if err := os.Chmod(path, 0o666); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("notify socket: %w", err)
	}
	return conn, path, nil
}
