package daemon

import (
	"context"
	"strings"

	"github.com/unit-os/unit/devlog"
)

// serveDevLog is journald's /dev/log: each syslog line goes to the log of
// the service whose process sent it (its cgroup, or its process group on
// a host), a line from a process of no service to unit's own log. The
// socket is bound before any service starts, so a daemon that opens
// syslog at start finds it. A flood is dropped by devlog and said here,
// once per burst, when the next line is handled.
func (d *Daemon) serveDevLog(ctx context.Context, l *devlog.Listener) {
	var reported uint64
	err := l.Serve(ctx, func(m devlog.Message) {
		if n := l.Dropped(); n != reported {
			d.log.Warn("/dev/log: lines dropped: the services sent more than unit could take", "count", n-reported)
			reported = n
		}
		name, ok := d.sup.OwnerOf(ctx, int(m.PID))
		if !ok {
			name = "unit"
		}
		d.sup.AddLine(name, syslogLine(m))
	})
	if err != nil {
		d.log.Warn("/dev/log stopped", "err", err)
	}
}

// syslogLine is a syslog message as a log line, like journalctl shows
// it: "TAG[PID]: text", with the level named when it is a warning or
// worse.
func syslogLine(m devlog.Message) string {
	var b strings.Builder
	if m.Tag != "" {
		b.WriteString(m.Tag)
		if m.TagPID != "" {
			b.WriteString("[" + m.TagPID + "]")
		}
		b.WriteString(": ")
	}
	if m.Severity <= 4 {
		b.WriteString(devlog.SeverityName(m.Severity) + ": ")
	}
	// One line per message: a newline inside one would let a sender fake
	// another line (and another service's name) in the log.
	b.WriteString(strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, m.Text))
	if m.Truncated {
		b.WriteString(" […]")
	}
	return b.String()
}
