package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/probe"
	"github.com/unit-os/unit/update"
)

// defaultTrial bounds an update's first boot when [system] trial is unset.
const defaultTrial = 5 * time.Minute

// updateCmd answers `unit update SOURCE` and `unit update --rollback`.
func (d *Daemon) updateCmd(ctx context.Context, req api.Request, send func(any) error) error {
	s := d.opts.Slots
	if s == nil {
		return errors.New("update: this machine has no root slots (only a disk image built by unit has them)")
	}
	say := func(msg string) { _ = send(api.UpdateProgress{Message: msg}) }
	var (
		e   update.Entry
		err error
	)
	if req.Rollback {
		if e, err = s.Rollback(); err != nil {
			return fmt.Errorf("rollback: %w", err)
		}
		in := s.Info(e.Slot)
		d.bus.Emit(event.Event{Resource: "update", State: "rolled-back",
			Message: fmt.Sprintf("the next boot takes slot %s: generation %d, release %s", e.Slot, e.Gen, in.Release),
			Fields:  event.Fields{"slot": e.Slot, "gen": e.Gen, "release": in.Release}})
	} else {
		if req.Source == "" {
			return errors.New("update: no source: give a bundle's path on the machine or an http URL")
		}
		src, err := openSource(ctx, req.Source)
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		e, err = s.Install(ctx, src, req.SHA256, say)
		src.Close()
		if err != nil {
			d.bus.Emit(event.Event{Resource: "update", State: "error", Message: err.Error(), Fields: event.Fields{"source": req.Source}})
			return fmt.Errorf("update: %w", err)
		}
		in := s.Info(e.Slot)
		d.bus.Emit(event.Event{Resource: "update", State: "installed",
			Message: fmt.Sprintf("generation %d, release %s, in slot %s; the next boot tries it", e.Gen, in.Release, e.Slot),
			Fields:  event.Fields{"slot": e.Slot, "gen": e.Gen, "release": in.Release, "source": req.Source}})
	}
	done := api.UpdateProgress{Slot: e.Slot, Gen: e.Gen, Rebooting: !req.NoReboot && d.opts.OnPower != nil}
	done.Message = fmt.Sprintf("slot %s, generation %d: ", e.Slot, e.Gen)
	if done.Rebooting {
		done.Message += "rebooting into it"
	} else {
		done.Message += "reboot to boot it"
	}
	_ = send(done)
	if done.Rebooting {
		d.opts.OnPower("reboot")
	}
	return nil
}

// openSource opens a bundle: an absolute path on the machine (a regular
// file, not reached through a symlink at its end) or an http URL (no TLS
// in PID 1: pin the bundle with --sha256 to know it is the one built).
func openSource(ctx context.Context, src string) (io.ReadCloser, error) {
	if strings.Contains(src, "://") {
		if strings.HasPrefix(src, "https://") {
			return nil, fmt.Errorf("%s: https is not supported (PID 1 carries no TLS); use http:// and pin the bundle with --sha256", src)
		}
		resp, err := probe.Get(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", src, err)
		}
		if resp.Status != 200 {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %d %s", src, resp.Status, resp.Reason)
		}
		return resp.Body, nil
	}
	if !strings.HasPrefix(src, "/") {
		return nil, fmt.Errorf("source %q: want an absolute path on the machine or an http URL", src)
	}
	f, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("source %s is not a regular file", src)
	}
	return f, nil
}

// slotsAtBoot says on the console and as events what the slots hold:
// an update on trial, or one that failed and why.
func (d *Daemon) slotsAtBoot() {
	for _, st := range d.opts.Slots.Status() {
		fields := event.Fields{"slot": st.Slot, "gen": st.Gen, "release": st.Release}
		switch {
		case st.Running && st.State == "trial":
			d.bus.Emit(event.Event{Resource: "update", State: "trial",
				Message: fmt.Sprintf("generation %d, release %s, in slot %s: committed once every service is ready and every check passes", st.Gen, st.Release, st.Slot),
				Fields:  fields})
		case !st.Running && st.State == "failed":
			fields["reason"] = st.Reason
			d.bus.Emit(event.Event{Resource: "update", State: "failed",
				Message: fmt.Sprintf("generation %d, release %s, in slot %s did not commit (%s); running slot %s", st.Gen, st.Release, st.Slot, st.Reason, d.opts.Slots.Running()),
				Fields:  fields})
		}
	}
}

// trial judges an update's first boot: it commits when every enabled
// service is ready and every check passes within the trial's time, and
// otherwise leaves the reason and reboots, which takes the other slot.
// A shutdown in between gives no verdict: the next boot is the other
// slot's all the same.
func (d *Daemon) trial(ctx context.Context, ready <-chan struct{}, within time.Duration) {
	s := d.opts.Slots
	tctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	select {
	case <-ready:
	case <-tctx.Done():
	}
	if ctx.Err() != nil {
		return
	}
	reason := ""
	if _, down := d.settled(ctx); len(down) > 0 {
		reason = "not running within " + within.String() + ": " + strings.Join(down, ", ")
	} else {
		res, err := d.runChecks(tctx, 0)
		if err != nil {
			reason = "checks: " + err.Error()
		}
		for _, r := range res {
			if !r.OK {
				reason = fmt.Sprintf("check %s: %s", r.Name, r.Detail)
				break
			}
		}
	}
	if ctx.Err() != nil {
		return
	}
	if reason == "" {
		e, err := s.Commit()
		if err != nil {
			d.log.Error("update: commit", "err", err)
			reason = "commit: " + err.Error()
		} else {
			in := s.Info(e.Slot)
			d.bus.Emit(event.Event{Resource: "update", State: "committed",
				Message: fmt.Sprintf("generation %d, release %s, in slot %s", e.Gen, in.Release, e.Slot),
				Fields:  event.Fields{"slot": e.Slot, "gen": e.Gen, "release": in.Release}})
			return
		}
	}
	if err := s.FailTrial(reason); err != nil {
		d.log.Error("update: recording the failed trial", "err", err)
	}
	d.bus.Emit(event.Event{Resource: "update", State: "failed",
		Message: reason + "; rebooting into the other slot", Fields: event.Fields{"slot": s.Running(), "reason": reason}})
	if d.opts.OnPower != nil {
		d.opts.OnPower("reboot")
	}
}
