package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The control socket's bounds, checked before a request is trusted: who
// is asking (SO_PEERCRED) and how many connections that uid holds come
// first, then the request line is read within a deadline and a size.
// docs/security.md has them as a table.
const (
	// MaxRequest bounds a request line, its newline not counted: a
	// request is a small JSON object.
	MaxRequest = 64 << 10
	// DefaultReadTimeout bounds the wait for the request line. It covers
	// the request only: what follows (a follow, a wait) may last as long
	// as the client stays, and only the connection counts bound it.
	DefaultReadTimeout = 10 * time.Second
	// DefaultMaxConnsPerUser is what one uid other than root may hold open.
	DefaultMaxConnsPerUser = 16
	// DefaultMaxConnsUsers is what all uids other than root together may
	// hold, so that they cannot take root's way in.
	DefaultMaxConnsUsers = 64
	// DefaultMaxConnsRoot is root's own (and the daemon's own uid's): the
	// status page, the fleet agent and the machine port relay are root's
	// clients, each bounded by its own cap below this.
	DefaultMaxConnsRoot = 128
)

// ServeOption tunes Serve.
type ServeOption func(*serveOpts)

type serveOpts struct {
	readTimeout          time.Duration
	perUser, users, root int
	afterLarge           func() // after a reply of LargeReply bytes or more
}

// ReadTimeout sets how long a client has to send its request line.
func ReadTimeout(d time.Duration) ServeOption { return func(o *serveOpts) { o.readTimeout = d } }

// MaxConns sets the connection caps: per uid other than root, all of
// those together, and root's.
func MaxConns(perUser, users, root int) ServeOption {
	return func(o *serveOpts) { o.perUser, o.users, o.root = perUser, users, root }
}

// Serve accepts connections until ctx ends, one goroutine per client.
func Serve(ctx context.Context, l net.Listener, h Handler, log *slog.Logger, opts ...ServeOption) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := newServeOpts(opts)
	cs := &conns{byUID: map[uint32]int{}}
	Accept(ctx, l, log, func(conn net.Conn) { serveConn(ctx, conn, h, log, &o, cs) })
}

func newServeOpts(opts []ServeOption) serveOpts {
	o := serveOpts{readTimeout: DefaultReadTimeout, perUser: DefaultMaxConnsPerUser, users: DefaultMaxConnsUsers, root: DefaultMaxConnsRoot}
	for _, f := range opts {
		f(&o)
	}
	if o.afterLarge == nil {
		o.afterLarge = newMemReturner().after
	}
	return o
}

// Accept hands every connection l accepts to serve, each in its own
// goroutine, until ctx ends (which closes l, before it returns) or l is
// closed. An accept
// error never ends it: running out of descriptors or memory (EMFILE,
// ENFILE, ENOBUFS, ENOMEM) passes when connections close, so it waits
// (5 ms, doubling to 1 s, as net/http does) and tries again, logging once
// per run of failures.
func Accept(ctx context.Context, l net.Listener, log *slog.Logger, serve func(net.Conn)) {
	// Returning means l is closed (a socket file removed): a caller may
	// listen on the same path next.
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		l.Close()
		close(closed)
	})
	defer func() {
		if !stop() {
			<-closed
		}
	}()
	var delay time.Duration
	failures := 0
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			if failures == 0 {
				log.Warn("accept failed: waiting and trying again", "listener", l.Addr().String(), "err", err, "temporary", temporary(err))
			}
			failures++
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		if failures > 0 {
			log.Info("accepting again", "listener", l.Addr().String(), "failures", failures)
			failures, delay = 0, 0
		}
		go serve(conn)
	}
}

// temporary says whether an accept error is one that passes by itself.
func temporary(err error) bool {
	for _, e := range []syscall.Errno{unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM, unix.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// peer is who is on the other end of a connection.
type peer struct {
	uid   uint32
	known bool // false: not a unix socket (tests, relays); access is the listener's
}

// trusted: root, or the daemon's own user (`unit run` as a user), or a
// connection the listener alone guards.
func (p peer) trusted() bool {
	return !p.known || p.uid == 0 || int(p.uid) == os.Geteuid()
}

// peerOf asks the kernel who connected (SO_PEERCRED), never the client.
func peerOf(conn net.Conn) (peer, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return peer{}, nil
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if cerr != nil {
		return peer{}, fmt.Errorf("peer credentials: %w", cerr)
	}
	return peer{uid: cred.Uid, known: true}, nil
}

// allowed says whether p may send cmd: a trusted peer anything, anyone
// else (a member of the read-only group) only read-only commands.
func (p peer) allowed(cmd string) error {
	if p.trusted() || readOnly[cmd] {
		return nil
	}
	return fmt.Errorf("%s: permission denied (uid %d may only use status, logs and events)", cmd, p.uid)
}

// conns counts the open connections of each class.
type conns struct {
	mu    sync.Mutex
	byUID map[uint32]int // uids other than root
	users int            // their sum
	root  int
}

// acquire takes a place for p, or says which cap is reached.
func (c *conns) acquire(p peer, o *serveOpts) (release func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.trusted() {
		if c.root >= o.root {
			return nil, fmt.Errorf("too many connections: root holds %d, the limit", c.root)
		}
		c.root++
		return func() {
			c.mu.Lock()
			c.root--
			c.mu.Unlock()
		}, nil
	}
	if n := c.byUID[p.uid]; n >= o.perUser {
		return nil, fmt.Errorf("too many connections: uid %d holds %d, the limit for one user", p.uid, n)
	}
	if c.users >= o.users {
		return nil, fmt.Errorf("too many connections: users other than root hold %d, the limit", c.users)
	}
	c.byUID[p.uid]++
	c.users++
	return func() {
		c.mu.Lock()
		if c.byUID[p.uid]--; c.byUID[p.uid] == 0 {
			delete(c.byUID, p.uid)
		}
		c.users--
		c.mu.Unlock()
	}, nil
}

var errTooLarge = fmt.Errorf("request too large: more than %d bytes", MaxRequest)

// readRequestLine reads one line of at most MaxRequest bytes (the
// newline not counted), refusing a longer one as soon as it is longer.
func readRequestLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		n := len(line) + len(chunk)
		if err == nil {
			n-- // the newline
		}
		if n > MaxRequest {
			return nil, errTooLarge
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		return line, nil
	}
}

func serveConn(ctx context.Context, conn net.Conn, h Handler, log *slog.Logger, o *serveOpts, cs *conns) {
	defer conn.Close()
	defer func() {
		if r := recover(); r != nil {
			log.Error("control socket: recovered from panic", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	enc := json.NewEncoder(conn)
	// A refusal is one short line; a client that does not read it does
	// not hold the connection.
	refuse := func(msg string) {
		_ = conn.SetWriteDeadline(time.Now().Add(o.readTimeout))
		_ = enc.Encode(reply{Error: msg})
	}
	p, err := peerOf(conn)
	if err != nil {
		log.Warn("control socket", "err", err)
		return
	}
	release, err := cs.acquire(p, o)
	if err != nil {
		refuse(err.Error())
		return
	}
	defer release()
	_ = conn.SetReadDeadline(time.Now().Add(o.readTimeout))
	// The limit ends the read one byte past MaxRequest, whether or not
	// more would come; it is lifted for the hang-up watch below.
	lr := &io.LimitedReader{R: conn, N: MaxRequest + 1}
	br := bufio.NewReaderSize(lr, 4096)
	line, err := readRequestLine(br)
	var ne net.Error
	switch {
	case errors.Is(err, errTooLarge):
		refuse(err.Error())
		return
	case errors.As(err, &ne) && ne.Timeout():
		refuse(fmt.Sprintf("no request within %s", o.readTimeout))
		return
	case err != nil:
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	lr.N = math.MaxInt64
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		refuse("bad request: " + err.Error())
		return
	}
	if err := p.allowed(req.Cmd); err != nil {
		refuse(err.Error())
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A client that hangs up cancels whatever it asked for (ends a follow).
	go func() {
		_, _ = br.ReadByte()
		cancel()
	}()
	sent := 0 // bytes of data, to know a large reply
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		sent += len(b)
		return enc.Encode(reply{Data: b})
	}
	err = h(ctx, req, send)
	if sent >= LargeReply {
		o.afterLarge()
	}
	if err != nil {
		_ = enc.Encode(reply{Error: err.Error()})
		return
	}
	_ = enc.Encode(reply{Done: true})
}
