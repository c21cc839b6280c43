package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/supervise"
)

// Config is what `unit web` serves with.
type Config struct {
	Socket  string // the control socket
	Reports string // STATE/reports, for the last convergence report
	// User and Password are the Basic credentials every request must
	// carry; both empty only on a loopback listener.
	User, Password string
	// Control allows the restart, stop and start buttons; it needs a
	// password, loopback or not (every local user reaches a loopback port).
	Control bool
	// Hosts are the names the page answers to besides its listen address
	// (the Host header of any other request is refused: DNS rebinding).
	Hosts []string
	// MaxConns caps the connections served at once (0: DefaultMaxConns);
	// HeadWait bounds the wait for a request's head (0: 10 s).
	MaxConns int
	HeadWait time.Duration
	Log      *slog.Logger
}

// DefaultMaxConns is how many connections the page serves at once. Each
// live stream holds one connection to the control socket as root, so it
// stays well below api.DefaultMaxConnsRoot.
const DefaultMaxConns = 32

// ReadAuth reads an auth file: one line, USER:PASSWORD. It must not be
// readable by others than its owner (it is a password).
func ReadAuth(path string) (user, password string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", "", fmt.Errorf("%s is mode %04o: a password file must not be readable by group or others (mode = \"0600\")", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	user, password, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok || user == "" || len(password) < 12 {
		return "", "", fmt.Errorf("%s: want one line USER:PASSWORD, the password at least 12 characters", path)
	}
	return user, password, nil
}

// Serve answers connections on l until ctx ends. A panic while answering
// one connection ends that connection only.
func Serve(ctx context.Context, l net.Listener, cfg Config) error {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Password == "" && !config.IsLoopback(l.Addr().String()) {
		return fmt.Errorf("web: %s is not loopback: refusing to serve without a password", l.Addr())
	}
	if cfg.Password == "" && cfg.Control {
		return errors.New("web: control needs a password (--auth FILE): every local user reaches a loopback port")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.HeadWait <= 0 {
		cfg.HeadWait = headWait
	}
	hosts := allowedHosts(l.Addr().String(), cfg.Hosts)
	slots := make(chan struct{}, cfg.MaxConns)
	api.Accept(ctx, l, cfg.Log, func(c net.Conn) {
		defer c.Close()
		defer func() {
			if r := recover(); r != nil {
				cfg.Log.Error("web: recovered from a panic", "panic", r, "stack", string(debug.Stack()))
			}
		}()
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			_ = c.SetWriteDeadline(time.Now().Add(cfg.HeadWait))
			respond(c, 503, "text/plain; charset=utf-8", []byte(fmt.Sprintf("too many connections (%d, the limit)\n", cfg.MaxConns)))
			return
		}
		serveConn(ctx, c, cfg, hosts)
	})
	return nil
}

func serveConn(ctx context.Context, c net.Conn, cfg Config, hosts hostRule) {
	req, err := readHead(c, cfg.HeadWait)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		respond(c, 408, "text/plain; charset=utf-8", []byte("no request within "+cfg.HeadWait.String()+"\n"))
		return
	}
	if err != nil {
		respond(c, 400, "text/plain; charset=utf-8", []byte("bad request\n"))
		return
	}
	if !hosts.allows(req.header["host"]) {
		respond(c, 421, "text/plain; charset=utf-8", []byte(fmt.Sprintf("Host %q is not this page's address: add it to [web] hosts\n", req.header["host"])))
		return
	}
	if !authorized(req, cfg) {
		respond(c, 401, "text/plain; charset=utf-8", []byte("unauthorized\n"), `WWW-Authenticate: Basic realm="unit", charset="UTF-8"`)
		return
	}
	// Ends streams when the client goes (it never sends after its request).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		var b [1]byte
		c.Read(b[:])
		cancel()
	}()
	switch {
	case req.path == "/" && req.method != "POST":
		page(ctx, c, cfg)
	case req.path == "/app.js" && req.method != "POST":
		respond(c, 200, "text/javascript; charset=utf-8", []byte(appJS))
	case req.path == "/app.css" && req.method != "POST":
		respond(c, 200, "text/css; charset=utf-8", []byte(appCSS))
	case req.path == "/api/status" && req.method != "POST":
		rep, err := status(ctx, cfg.Socket)
		if err != nil {
			respond(c, 502, "text/plain; charset=utf-8", []byte(err.Error()+"\n"))
			return
		}
		b, _ := json.Marshal(rep)
		respond(c, 200, "application/json", b)
	case req.path == "/api/logs" && req.method == "GET":
		stream(ctx, c, cfg.Socket, api.Request{Cmd: "logs", Name: req.query.Get("name"), Follow: true, Lines: 50}, func(b json.RawMessage) (string, bool) {
			var l supervise.LogLine
			if json.Unmarshal(b, &l) != nil {
				return "", false
			}
			return l.Time.Format("15:04:05.000") + " " + l.Service + ": " + l.Text, true
		})
	case req.path == "/api/events" && req.method == "GET":
		stream(ctx, c, cfg.Socket, api.Request{Cmd: "events"}, func(b json.RawMessage) (string, bool) {
			var e event.Event
			if json.Unmarshal(b, &e) != nil {
				return "", false
			}
			s := e.Time.Format("15:04:05") + " " + e.Resource + " " + e.State
			if e.Message != "" {
				s += " (" + e.Message + ")"
			}
			return s, true
		})
	case strings.HasPrefix(req.path, "/api/") && req.method == "POST":
		action(ctx, c, req, cfg)
	default:
		respond(c, 404, "text/plain; charset=utf-8", []byte("not found\n"))
	}
}

// authorized checks Basic credentials in constant time; a loopback
// server without a password takes every request.
func authorized(req *request, cfg Config) bool {
	if cfg.Password == "" {
		return true
	}
	h, ok := strings.CutPrefix(req.header["authorization"], "Basic ")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h))
	if err != nil {
		return false
	}
	user, pass, _ := strings.Cut(string(b), ":")
	u := subtle.ConstantTimeCompare([]byte(user), []byte(cfg.User))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(cfg.Password))
	return u&p == 1
}

// action is a button: POST /api/restart?name=NAME (stop, start). It
// needs Control, and the X-Unit header, which a page of another site
// cannot send without the browser asking this server first (CSRF).
func action(ctx context.Context, c net.Conn, req *request, cfg Config) {
	cmd := strings.TrimPrefix(req.path, "/api/")
	if cmd != "restart" && cmd != "stop" && cmd != "start" {
		respond(c, 404, "text/plain; charset=utf-8", []byte("not found\n"))
		return
	}
	if !cfg.Control {
		respond(c, 403, "text/plain; charset=utf-8", []byte("this status page is read-only ([web] control = false)\n"))
		return
	}
	if req.header["x-unit"] != "1" {
		respond(c, 403, "text/plain; charset=utf-8", []byte("missing X-Unit: 1\n"))
		return
	}
	name := req.query.Get("name")
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := api.Call(cctx, cfg.Socket, api.Request{Cmd: cmd, Name: name}, nil); err != nil {
		respond(c, 502, "text/plain; charset=utf-8", []byte(err.Error()+"\n"))
		return
	}
	respond(c, 200, "text/plain; charset=utf-8", []byte(cmd+" "+name+": done\n"))
}

// status asks the daemon.
func status(ctx context.Context, socket string) (*api.StatusReply, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var rep api.StatusReply
	err := api.Call(cctx, socket, api.Request{Cmd: "status"}, func(b json.RawMessage) error { return json.Unmarshal(b, &rep) })
	if err == nil && cctx.Err() != nil {
		err = errors.New("the daemon did not answer")
	}
	return &rep, err
}

// stream answers with server-sent events, one per line the daemon sends,
// until the client or the daemon goes.
func stream(ctx context.Context, c net.Conn, socket string, req api.Request, line func(json.RawMessage) (string, bool)) {
	fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n")
	writeCommonHeaders(c, nil)
	err := api.Call(ctx, socket, req, func(b json.RawMessage) error {
		s, ok := line(b)
		if !ok {
			return nil
		}
		var out strings.Builder
		for _, l := range strings.Split(s, "\n") {
			out.WriteString("data: " + l + "\n")
		}
		out.WriteString("\n")
		_, err := c.Write([]byte(out.String()))
		return err
	})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(c, "event: error\ndata: %s\n\n", strings.ReplaceAll(err.Error(), "\n", " "))
	}
}

// keptReports reads the daemon's kept reports, newest first (none when
// there is no directory or it cannot be read).
func keptReports(dir string) []*cm.Report {
	if dir == "" {
		return nil
	}
	rs, _ := cm.Reports(dir, 1000)
	return rs
}

// drift lists the drift the reports hold, newest first: what someone
// changed behind unit's back and what unit did about it.
func drift(rs []*cm.Report) []string {
	var out []string
	for _, r := range rs {
		for _, c := range r.Changes {
			if c.Result != "repaired" && c.Result != "drift" {
				continue
			}
			out = append(out, r.Time.Format("2006-01-02 15:04:05")+" "+c.Resource+" "+c.Result+": "+strings.Join(c.What, ", "))
		}
	}
	return out
}
