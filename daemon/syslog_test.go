package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/devlog"
	"github.com/unit-os/unit/supervise"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("UNIT_TEST_SYSLOG"); path != "" {
		helperSyslog(path)
		return
	}
	os.Exit(m.Run())
}

// helperSyslog is a daemon that logs to syslog as glibc does, then stays.
func helperSyslog(path string) {
	c, err := net.Dial("unixgram", path)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(2)
	}
	c.Write([]byte("<28>Dec  6 01:02:03 web[1]: backend down\nfake: line"))
	c.Write([]byte("<30>web[1]: serving"))
	fmt.Println("logged")
	select {}
}

// A service's syslog lines are in its own log, with the level of a
// warning named and no way to forge a second line; a process of no
// service logs to unit's.
func TestDevLogToTheSendersLog(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "log")
	conf := filepath.Join(dir, "s.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("[service.web]\nexec = [%q]\nenv = { UNIT_TEST_SYSLOG = %q }\n", os.Args[0], sock)), 0o644)
	cfg, err := config.LoadFiles(conf)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	reaper := supervise.NewReaper(log)
	sup := supervise.New(reaper, supervise.WithLogger(log), supervise.WithStateDir(dir))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go reaper.Run(ctx)
	go sup.Run(ctx)
	l, err := devlog.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{log: log, sup: sup}
	served := make(chan struct{})
	go func() { d.serveDevLog(ctx, l); close(served) }()
	sup.LogWriter("unit") // unit's own log exists from the start, as in the daemon
	if err := sup.SetConfig(ctx, cfg.Services); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sup.Shutdown(context.Background())
		cancel()
		<-served
	}()
	want := []string{"web[1]: warning: backend down fake: line", "web[1]: serving"}
	waitLines(t, sup, "web", want)

	c, err := net.Dial("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("<14>stray: from no service"))
	c.Close()
	waitLines(t, sup, "unit", []string{"stray: from no service"})
}

// waitLines waits until name's log holds want (in order, maybe among
// others), reading it again on each new line.
func waitLines(t *testing.T, sup *supervise.Supervisor, name string, want []string) {
	t.Helper()
	follow, stop, err := sup.Follow(name)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	timeout := time.After(time.Minute)
	for {
		lines, _ := sup.Logs(name, 0)
		var got []string
		for _, l := range lines {
			if slices.Contains(want, l.Text) {
				got = append(got, l.Text)
			}
		}
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-follow:
		case <-timeout:
			t.Fatalf("%s's log: %v, want %q", name, lines, want)
		}
	}
}
