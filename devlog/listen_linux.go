package devlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds: a datagram is read into MaxMessage bytes (longer ones keep
// their head and are marked Truncated); at most Queue messages wait for
// the handler, more are dropped and counted. The reader never waits for
// the handler, so a flood costs PID 1 one buffer and a counter.
const (
	MaxMessage = 16 << 10
	Queue      = 512
)

// Listener is the bound /dev/log socket.
type Listener struct {
	fd      int
	path    string
	dropped atomic.Uint64
	got     atomic.Uint64
}

// Listen binds a datagram socket at path with SO_PASSCRED, mode 0666 so
// every service can log. A socket left there by an earlier run is
// replaced; anything else at path (a file, a symlink) is refused, never
// followed or removed.
//
// Only datagrams: one path holds one socket type, and every syslog
// client (glibc's syslog(3), logger, Python's SysLogHandler) tries a
// datagram first, as journald's /dev/log also is.
func Listen(path string) (*Listener, error) {
	var st unix.Stat_t
	switch err := unix.Lstat(path, &st); {
	case err == nil && st.Mode&unix.S_IFMT != unix.S_IFSOCK:
		return nil, fmt.Errorf("listen %s: exists and is not a socket", path)
	case err == nil:
		if err := unix.Unlink(path); err != nil {
			return nil, fmt.Errorf("listen %s: %w", path, err)
		}
	case !errors.Is(err, unix.ENOENT):
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	fail := func(err error) (*Listener, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		return fail(err)
	}
	// A larger receive queue absorbs a burst at boot before the reader runs.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	old := unix.Umask(0o111) // the socket is made 0666 whatever PID 1's umask
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: path})
	unix.Umask(old)
	if err != nil {
		return fail(err)
	}
	return &Listener{fd: fd, path: path}, nil
}

// Dropped is how many messages were dropped because the handler lagged.
func (l *Listener) Dropped() uint64 { return l.dropped.Load() }

// Received is how many datagrams were read.
func (l *Listener) Received() uint64 { return l.got.Load() }

// Serve reads until ctx ends, calling handle for each message on one
// goroutine of its own. It closes the socket and removes it before it
// returns.
func (l *Listener) Serve(ctx context.Context, handle func(Message)) error {
	queue := make(chan Message, Queue)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range queue {
			handle(m)
		}
	}()
	stop := context.AfterFunc(ctx, func() {
		// Wakes the blocked recvmsg: shutdown makes it return 0 at once.
		_ = unix.Shutdown(l.fd, unix.SHUT_RDWR)
	})
	defer stop()
	err := l.read(ctx, queue)
	close(queue)
	<-done
	unix.Close(l.fd)
	_ = os.Remove(l.path)
	return err
}

func (l *Listener) read(ctx context.Context, queue chan<- Message) error {
	buf := make([]byte, MaxMessage)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for ctx.Err() == nil {
		n, oobn, flags, _, err := unix.Recvmsg(l.fd, buf, oob, unix.MSG_TRUNC|unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.ENOMEM) {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read %s: %w", l.path, err)
		}
		if n == 0 && oobn == 0 && ctx.Err() != nil {
			return nil
		}
		l.got.Add(1)
		size := min(n, len(buf))
		m := Parse(buf[:size])
		m.Time = time.Now()
		m.Truncated = n > len(buf) || flags&unix.MSG_TRUNC != 0
		if cred, ok := credentials(oob[:oobn]); ok {
			m.PID, m.UID, m.GID = cred.Pid, cred.Uid, cred.Gid
		}
		select {
		case queue <- m:
		default:
			l.dropped.Add(1)
		}
	}
	return nil
}

// credentials reads SCM_CREDENTIALS: the kernel fills in the sender's
// pid, uid and gid (a process can only claim its own unless privileged).
func credentials(oob []byte) (*unix.Ucred, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_CREDENTIALS {
			if c, err := unix.ParseUnixCredentials(&m); err == nil {
				return c, true
			}
		}
	}
	return nil, false
}
