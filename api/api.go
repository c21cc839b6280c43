// Package api is the control socket protocol between `unit` commands and the
// running daemon: one JSON request per connection, answered by zero or more
// JSON data lines and one final line that says ok or gives the error.
package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DefaultSocket is where PID 1 listens.
const DefaultSocket = "/run/unit/unit.sock"

// Request is one command.
type Request struct {
	Cmd    string `json:"cmd"` // status, start, stop, restart, logs, events, apply, checks, update, reboot, poweroff, halt
	Name   string `json:"name,omitempty"`
	Lines  int    `json:"lines,omitempty"`
	Follow bool   `json:"follow,omitempty"`
	// Since keeps log lines from then on (logs).
	Since  time.Time `json:"since,omitzero"`
	DryRun bool      `json:"dry_run,omitempty"`
	// Wait (checks): first wait this long for the services to be ready;
	// (status): first wait this long for the daemon to leave
	// SystemStarting, answered when its state changes.
	Wait time.Duration `json:"wait,omitempty"`
	// Update: Source is the bundle (a path on the machine or an http
	// URL); Rollback boots the other slot's image instead; NoReboot
	// leaves the reboot into the new image to the caller.
	Source string `json:"source,omitempty"`
	// SHA256 pins the bundle: its id (the sha256 of its manifest) must be
	// this, or nothing is written.
	SHA256   string `json:"sha256,omitempty"`
	Rollback bool   `json:"rollback,omitempty"`
	NoReboot bool   `json:"no_reboot,omitempty"`
}

// reply is one line of the answer.
type reply struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Done  bool            `json:"done,omitempty"`
	Error string          `json:"error,omitempty"`
}

// Handler answers requests; send writes one data line (it fails once the
// client has gone, which ends a follow).
type Handler func(ctx context.Context, req Request, send func(v any) error) error

// Listen binds the socket: mode 0600 (only root may command PID 1), or
// with a read-only group (ListenOptions.Group >= 0) 0660 and that group,
// whose members may ask for status, logs, events and reports.
//
// The socket never exists with another mode: it is bound in a private
// directory beside the path, given its mode and group there, then renamed
// into place.
func Listen(path string, opts ...ListenOption) (net.Listener, error) {
	o := listenOpts{group: -1}
	for _, f := range opts {
		f(&o)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".unit-sock-")
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	bound := filepath.Join(tmp, "sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	ul.SetUnlinkOnClose(false) // it is renamed below; Close must not remove another's
	mode := os.FileMode(0o600)
	if o.group >= 0 {
		mode = 0o660
		if err := os.Lchown(bound, -1, o.group); err != nil {
			ul.Close()
			return nil, fmt.Errorf("control socket %s: group %d: %w", path, o.group, err)
		}
	}
	if err := os.Chmod(bound, mode); err != nil {
		ul.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Rename(bound, path); err != nil {
		ul.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return &ownedListener{UnixListener: ul, path: path}, nil
}

// ownedListener removes its socket file on Close, as net's would have
// under its first name.
type ownedListener struct {
	*net.UnixListener
	path string
}

func (l *ownedListener) Close() error {
	err := l.UnixListener.Close()
	os.Remove(l.path)
	return err
}

// ListenOption tunes Listen.
type ListenOption func(*listenOpts)

type listenOpts struct{ group int }

// ReadOnlyGroup lets members of gid connect, for read-only commands.
func ReadOnlyGroup(gid int) ListenOption { return func(o *listenOpts) { o.group = gid } }

// readOnly are the commands a client that is not root may send.
var readOnly = map[string]bool{"status": true, "logs": true, "events": true, "metrics": true}

// ReadOnly reports whether cmd only reads (what the read-only group and
// a stopping daemon answer).
func ReadOnly(cmd string) bool { return readOnly[cmd] }

// removeStale removes a socket left by a daemon that is gone. A socket that
// answers belongs to a running daemon and is never removed; anything that
// is not a socket (a file, a symlink) is not ours to delete.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("control socket %s: exists and is not a socket (%s); not removing it", path, fi.Mode().Type())
	}
	if c, err := net.DialTimeout("unix", path, 2*time.Second); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: a running unit answers on it; not taking it over", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	return nil
}

// Call sends req to the daemon at socket and calls onData for each data
// line, until the daemon says done or returns an error.
func Call(ctx context.Context, socket string, req Request, onData func(json.RawMessage) error) error {
	b, _ := json.Marshal(req)
	if len(b) > MaxRequest {
		return fmt.Errorf("%s: request too large (%d bytes, the control socket takes %d)", req.Cmd, len(b), MaxRequest)
	}
	conn, err := dial(ctx, socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	dec := json.NewDecoder(bufio.NewReader(conn))
	if _, err := conn.Write(append(b, '\n')); err != nil {
		// Refused before the request was read (too many connections):
		// the daemon's line says why.
		var r reply
		if dec.Decode(&r) == nil && r.Error != "" {
			return errors.New(r.Error)
		}
		return fmt.Errorf("send to %s: %w", socket, err)
	}
	for {
		var r reply
		if err := dec.Decode(&r); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read from %s: %w", socket, err)
		}
		switch {
		case r.Error != "":
			return errors.New(r.Error)
		case r.Done:
			return nil
		case onData != nil:
			if err := onData(r.Data); err != nil {
				return err
			}
		}
	}
}
