package daemon

import (
	"context"
	"fmt"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/supervise"
)

// handle answers one control-socket request.
func (d *Daemon) handle(ctx context.Context, req api.Request, send func(any) error) error {
	if p, _ := d.phase.get(); p == api.SystemStopping && !api.ReadOnly(req.Cmd) {
		return fmt.Errorf("%s: unit is stopping (only status, logs, events and metrics are answered)", req.Cmd)
	}
	switch req.Cmd {
	case "status":
		d.phase.waitStarted(ctx, req.Wait)
		rep, err := d.statusReply(ctx, req.Name)
		if err != nil {
			return err
		}
		return send(rep)
	case "start":
		return d.sup.Start(ctx, req.Name)
	case "stop":
		return d.sup.Stop(ctx, req.Name)
	case "restart":
		return d.sup.Restart(ctx, req.Name)
	case "logs":
		return d.logs(ctx, req, send)
	case "events":
		ch, cancel := d.bus.Subscribe(1024)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return nil
			case e := <-ch:
				if err := send(e); err != nil {
					return nil
				}
			}
		}
	case "apply":
		rep, err := d.engine.Apply(ctx, req.DryRun)
		if err != nil {
			return err
		}
		return send(apiReport(rep))
	case "checks":
		res, err := d.runChecks(ctx, req.Wait)
		if err != nil {
			return err
		}
		if len(res) == 0 {
			return errNoChecks
		}
		for _, r := range res {
			if err := send(r); err != nil {
				return nil
			}
		}
		return nil
	case "metrics":
		return send(string(d.metrics(ctx)))
	case "update":
		return d.updateCmd(ctx, req, send)
	case "reboot", "poweroff", "halt":
		if d.opts.OnPower == nil {
			return fmt.Errorf("%s: not PID 1 (stop `unit run` with ctrl-c instead)", req.Cmd)
		}
		d.opts.OnPower(req.Cmd)
		return nil
	}
	return fmt.Errorf("unknown command %q", req.Cmd)
}

func (d *Daemon) logs(ctx context.Context, req api.Request, send func(any) error) error {
	var (
		ch     <-chan supervise.LogLine
		cancel = func() {}
		err    error
	)
	// Subscribe before reading the backlog so no line falls in between
	// (a line may show twice at the seam; none is lost).
	if req.Follow {
		ch, cancel, err = d.sup.Follow(req.Name)
		if err != nil {
			return err
		}
	}
	defer cancel()
	lines, err := d.sup.Logs(req.Name, req.Lines)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.Time.Before(req.Since) {
			continue
		}
		if err := send(l); err != nil {
			return nil
		}
	}
	if !req.Follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-ch:
			if !ok {
				return nil
			}
			if err := send(l); err != nil {
				return nil
			}
		}
	}
}
