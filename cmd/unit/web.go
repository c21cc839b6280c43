package main

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/web"
)

// cmdWeb is `unit web`: the status page, served as a client of the
// control socket ([web] runs it as the service unit-web).
func cmdWeb(args []string) error {
	fs := newFlags("web")
	listen := fs.String("listen", "127.0.0.1:8080", "HOST:PORT to serve on")
	auth := fs.String("auth", "", "file holding USER:PASSWORD (mode 0600); required unless --listen is loopback")
	control := fs.Bool("control", false, "allow the restart, stop and start buttons (needs --auth)")
	hosts := fs.String("hosts", "", "names the page answers to besides its listen address, comma-separated")
	state := fs.String("state", defaultStateDir(), "the daemon's state directory (its reports)")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg := web.Config{Socket: *socket, Reports: filepath.Join(*state, "reports"), Control: *control,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	if *hosts != "" {
		cfg.Hosts = strings.Split(*hosts, ",")
	}
	if *auth != "" {
		var err error
		if cfg.User, cfg.Password, err = web.ReadAuth(*auth); err != nil {
			return err
		}
	} else if !config.IsLoopback(*listen) {
		return usageError{errors.New("web: --listen " + *listen + " is reachable from other machines: give --auth FILE")}
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	cfg.Log.Info("status page", "listen", l.Addr().String(), "control", *control, "auth", *auth != "")
	return web.Serve(ctx, l, cfg)
}
