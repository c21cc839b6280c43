package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// A machine booted by `unit image run` has a virtio-serial port named
// ControlPort, whose host end is the unix socket MachineSocket(DIR) that
// qemu listens on. `unit --machine DIR COMMAND` talks to the guest's
// control socket through it: PID 1 relays each session to its own local
// socket, so the access rules are those of the local socket (root only:
// the host socket lives in a 0700 directory).
//
// The port is one byte stream that clients use in turn, and the guest
// cannot tell when a host client went away; so every line on it is a
// Frame tagged with the client's random session id. A new session ends the
// last one; a client ignores lines of any other session (a reply the guest
// was still writing when its client left).
const ControlPort = "org.unit.control"

// MachinePrefix marks a socket argument that names a machine directory.
const MachinePrefix = "machine:"

// MaxFrame bounds one line on the port: input from the other side is
// never trusted to end.
const MaxFrame = 1 << 20

// Frame is one line on a machine's control port.
type Frame struct {
	S   uint64          `json:"s"`
	Req json.RawMessage `json:"req,omitempty"` // host → guest: the request
	End bool            `json:"end,omitempty"` // host → guest: the client is gone
	R   json.RawMessage `json:"r,omitempty"`   // guest → host: one reply line
}

// MachineSocket is the host end of the control port of the machine in dir.
func MachineSocket(dir string) string { return filepath.Join(dir, "run", "control.sock") }

// dial connects to a daemon: a unix socket path, or MachinePrefix+DIR.
func dial(ctx context.Context, socket string) (net.Conn, error) {
	var d net.Dialer
	dir, ok := strings.CutPrefix(socket, MachinePrefix)
	if !ok {
		c, err := d.DialContext(ctx, "unix", socket)
		if err != nil {
			return nil, fmt.Errorf("connect to unit at %s: %w (is `unit run` or PID 1 running? set --socket or UNIT_SOCKET)", socket, err)
		}
		return c, nil
	}
	path := MachineSocket(dir)
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to the machine in %s: %w (is it running, booted by `unit image run %s`?)", dir, err, dir)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		c.Close()
		return nil, err
	}
	return &machineConn{Conn: c, id: binary.LittleEndian.Uint64(id[:]) | 1, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

// machineConn carries one client's request and replies as frames.
type machineConn struct {
	net.Conn
	id      uint64
	br      *bufio.Reader
	pending []byte // reply lines not read yet
	once    sync.Once
}

// Write sends the request line (Call writes it once, whole).
func (m *machineConn) Write(p []byte) (int, error) {
	b, err := json.Marshal(Frame{S: m.id, Req: bytes.TrimSpace(p)})
	if err != nil {
		return 0, err
	}
	if _, err := m.Conn.Write(append(b, '\n')); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read returns this session's reply lines; other sessions' are dropped.
func (m *machineConn) Read(p []byte) (int, error) {
	for len(m.pending) == 0 {
		line, err := ReadFrameLine(m.br)
		if err != nil {
			return 0, err
		}
		var f Frame
		if json.Unmarshal(line, &f) != nil || f.S != m.id || len(f.R) == 0 {
			continue
		}
		m.pending = append(append(m.pending, f.R...), '\n')
	}
	n := copy(p, m.pending)
	m.pending = m.pending[n:]
	return n, nil
}

// Close tells the guest the session is over (ending a follow), then hangs up.
func (m *machineConn) Close() error {
	m.once.Do(func() {
		b, _ := json.Marshal(Frame{S: m.id, End: true})
		m.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		m.Conn.Write(append(b, '\n'))
	})
	return m.Conn.Close()
}

// ReadFrameLine reads one line of at most MaxFrame bytes (either side of
// a control port); a longer one is skipped whole.
func ReadFrameLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > MaxFrame {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		if tooLong {
			tooLong = false
			continue
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// EnsureMachineDir makes DIR/run, where qemu puts the control socket,
// readable by its owner only.
func EnsureMachineDir(dir string) error {
	run := filepath.Dir(MachineSocket(dir))
	if err := os.Mkdir(run, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("machine dir %s: %w", run, err)
	}
	fi, err := os.Lstat(run)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		return fmt.Errorf("machine dir %s: want a directory with mode 0700, found %v", run, fi.Mode())
	}
	return nil
}
