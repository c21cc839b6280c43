package supervise

import (
	"context"
	"maps"
	"slices"
	"time"
)

// Status is one service as `unit status` shows it.
type Status struct {
	Name     string    `json:"name"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Enabled  bool      `json:"enabled"`
	PID      int       `json:"pid,omitempty"`
	Since    time.Time `json:"since"`
	Uptime   string    `json:"uptime,omitempty"`
	Restarts int       `json:"restarts"`
	LastExit string    `json:"last_exit,omitempty"`
	Ready    string    `json:"ready"`
	ReadyMs  int64     `json:"ready_ms,omitempty"`
	Requires []string  `json:"requires,omitempty"`
	Memory   int64     `json:"memory_bytes,omitempty"`
	Cgroup   string    `json:"cgroup,omitempty"`
	// Notify is the last STATUS= the service sent over sd_notify.
	Notify string `json:"notify_status,omitempty"`
	// Health is "ok", "pending" or "failing N/M: why" when health is set.
	Health string `json:"health,omitempty"`
	// LogDir is where the persistent log is, when log.dir is set.
	LogDir string `json:"log_dir,omitempty"`
}

// Status reports every service, sorted by name (or just name, if given).
func (s *Supervisor) Status(ctx context.Context, name string) ([]Status, error) {
	var out []Status
	err := s.call(ctx, func() error {
		if name != "" {
			v, err := s.lookup(name)
			if err != nil {
				return err
			}
			out = append(out, v.status())
			return nil
		}
		for _, n := range slices.Sorted(maps.Keys(s.services)) {
			out = append(out, s.services[n].status())
		}
		return nil
	})
	return out, err
}

// Failed is systemctl's "failed": the service will not run again by
// itself after a failure, because unit gave up on it (StateFailed) or
// because it exited non-zero or by a signal under a policy that does not
// restart it. A one-shot that exited 0 is not failed.
func (s Status) Failed() bool {
	return s.State == StateFailed || s.State == StateExited && s.LastExit != "exit 0"
}

func (v *service) status() Status {
	st := Status{
		Name: v.name, State: v.state, Reason: v.reason, Enabled: v.cfg.IsEnabled(),
		PID: v.pid, Since: v.since, Restarts: v.total, LastExit: v.lastExit,
		Ready: v.cfg.Ready, Requires: v.cfg.Requires, Cgroup: v.cgroup,
		Notify: v.notifyText, LogDir: v.cfg.Log.Dir,
	}
	if v.state == StateRunning {
		st.Health = v.health.status
	}
	if v.active() {
		st.Uptime = time.Since(v.startedAt).Round(time.Millisecond).String()
		if m := memoryCurrent(v.cgroup); m >= 0 {
			st.Memory = m
		}
	}
	if !v.readyAt.IsZero() {
		st.ReadyMs = v.readyAt.Sub(v.startedAt).Milliseconds()
	}
	return st
}
