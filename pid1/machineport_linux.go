package pid1

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/daemon"
	"github.com/unit-os/unit/disk"
)

// controlPortWait bounds the wait for the control port's device after
// cold-plug (its virtio-serial port is announced by the host after the
// driver binds).
const controlPortWait = 5 * time.Second

// serveControlPort relays the host's sessions on the virtio-serial port
// api.ControlPort (present when `unit image run` booted this machine) to
// the local control socket. Without the port it returns at once.
func serveControlPort(ctx context.Context, log *slog.Logger, socket string) {
	defer daemon.RecoverLog(log, "control port")
	dev := waitControlPort(ctx)
	if dev == "" {
		return
	}
	// SIGIO says the host end connected (or went): notify before O_ASYNC,
	// or the signal's default action would end PID 1.
	sigio := make(chan os.Signal, 1)
	signal.Notify(sigio, unix.SIGIO)
	defer signal.Stop(sigio)
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		log.Warn("control port", "dev", dev, "err", err)
		return
	}
	defer unix.Close(fd)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETOWN, os.Getpid()); err == nil {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_ASYNC)
		}
	}
	log.Info("control port: serving the host", "dev", dev)
	r := &relay{ctx: ctx, log: log, socket: socket, out: portWriter{fd: fd}}
	br := bufio.NewReaderSize(portReader{ctx: ctx, fd: fd, hostUp: sigio}, 64<<10)
	for ctx.Err() == nil {
		line, err := api.ReadFrameLine(br)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("control port: read", "err", err)
			}
			return
		}
		var f api.Frame
		if json.Unmarshal(line, &f) != nil || f.S == 0 {
			continue // noise, or the torn tail of a client that left
		}
		r.take(f)
	}
}

// waitControlPort finds /dev/NAME of the port named api.ControlPort.
func waitControlPort(ctx context.Context) string {
	look := func() string {
		names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil && strings.TrimSpace(string(b)) == api.ControlPort {
				return "/dev/" + filepath.Base(filepath.Dir(n))
			}
		}
		return ""
	}
	fd, err := disk.UeventSocket()
	if err != nil {
		fd = -1
	} else {
		defer unix.Close(fd)
	}
	deadline := time.Now().Add(controlPortWait)
	for {
		if dev := look(); dev != "" {
			if _, err := os.Stat(dev); err == nil {
				return dev
			}
		}
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return ""
		}
		if disk.AwaitUevent(fd, left) != nil {
			return ""
		}
	}
}

// portReader reads the port; while no host is connected a read returns
// 0 at once, so it then waits for SIGIO (the host connecting) instead of
// spinning.
type portReader struct {
	ctx    context.Context
	fd     int
	hostUp <-chan os.Signal
}

func (p portReader) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(p.fd, b)
		if err == unix.EINTR {
			continue
		}
		if n > 0 || err != nil {
			return max(n, 0), err
		}
		select {
		case <-p.hostUp:
		case <-p.ctx.Done():
			return 0, io.EOF
		}
	}
}

// portWriter writes whole frames; it blocks while no host is connected.
type portWriter struct{ fd int }

func (p portWriter) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(p.fd, b[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// relay runs one session at a time against the local socket.
type relay struct {
	ctx    context.Context
	log    *slog.Logger
	socket string
	out    io.Writer
	wmu    sync.Mutex // one frame at a time on the port
	mu     sync.Mutex
	cur    uint64
	conn   net.Conn
}

// take handles a frame: a request starts a session (ending the last), an
// end ends its own.
func (r *relay) take(f api.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.End {
		if f.S == r.cur && r.conn != nil {
			r.conn.Close()
			r.conn, r.cur = nil, 0
		}
		return
	}
	if len(f.Req) == 0 {
		return
	}
	if len(f.Req) > api.MaxRequest {
		r.send(api.Frame{S: f.S, R: errorReply(fmt.Errorf("request too large (%d bytes, the control socket takes %d)", len(f.Req), api.MaxRequest))})
		return
	}
	if r.conn != nil {
		r.conn.Close() // its client is gone: a new one speaks
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	conn, err := d.DialContext(ctx, "unix", r.socket)
	cancel()
	if err != nil {
		r.send(api.Frame{S: f.S, R: errorReply(err)})
		r.conn, r.cur = nil, 0
		return
	}
	r.conn, r.cur = conn, f.S
	// A write the socket refused (too many connections) still has the
	// socket's answer to read: pipe it either way.
	_, _ = conn.Write(append(append([]byte(nil), f.Req...), '\n'))
	go r.pipe(f.S, conn)
}

// pipe copies the local socket's reply lines to the port as frames.
func (r *relay) pipe(id uint64, conn net.Conn) {
	defer daemon.RecoverLog(r.log, "control port relay")
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	for {
		line, err := api.ReadFrameLine(br)
		if err != nil {
			return
		}
		if !r.send(api.Frame{S: id, R: line}) {
			return
		}
	}
}

func (r *relay) send(f api.Frame) bool {
	b, err := json.Marshal(f)
	if err != nil {
		return false
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_, err = r.out.Write(append(b, '\n'))
	return err == nil
}

func errorReply(err error) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"error": "machine: " + err.Error()})
	return b
}
