package api

import "time"

// StatusReply answers `status`: the services and, while the config on disk
// is invalid (the last good one keeps running), its error as file:line.
type StatusReply struct {
	// State is the daemon's own state, as systemd's is-system-running:
	// SystemStarting, SystemRunning, SystemDegraded or SystemStopping.
	State string `json:"state,omitempty"`
	// Release is the running image's release id (the git revision of its
	// system description, or a hash of it); "" outside an image.
	Release     string          `json:"release,omitempty"`
	ConfigError string          `json:"config_error,omitempty"`
	Services    []ServiceStatus `json:"services"`
	// LastLog is the last lines (up to 3, non-blank) each failed service
	// wrote, by name: why it exited, under its row in `unit status`.
	LastLog map[string][]string `json:"last_log,omitempty"`
	// Failed are the resources (files, users, ...) whose last convergence
	// failed, with why.
	Failed []FailedResource `json:"failed,omitempty"`
	// Slots are a disk machine's root slots, the running one first.
	Slots []SlotStatus `json:"slots,omitempty"`
	// InotifyOverflows counts the times the engine lost inotify events
	// and re-checked every resource for it.
	InotifyOverflows int64 `json:"inotify_overflows,omitempty"`
}

// ServiceStatus is one service as `unit status` shows it: the daemon
// converts the supervisor's supervise.Status to it, field for field (a
// Go conversion, so the two cannot drift apart unnoticed).
type ServiceStatus struct {
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

// A service's states (ServiceStatus.State), as the supervisor names them.
const (
	ServiceStopped  = "stopped"  // not running, not wanted
	ServiceWaiting  = "waiting"  // wanted, waiting for what it requires
	ServiceStarting = "starting" // spawned, not ready yet
	ServiceRunning  = "running"  // ready
	ServiceStopping = "stopping" // stop signal sent
	ServiceBackoff  = "backoff"  // exited, restart scheduled
	ServiceExited   = "exited"   // exited and not restarted by policy
	ServiceFailed   = "failed"   // gave up (crash loop, failed start); needs `unit start`
)

// The daemon's states (StatusReply.State).
const (
	// SystemStarting: the socket answers, but the first convergence has
	// not yet handed the services to the supervisor (the list is empty).
	SystemStarting = "starting"
	// SystemRunning: the services are handed over and nothing is
	// degraded (services may still be on their way up).
	SystemRunning = "running"
	// SystemDegraded: as running, but StatusReply.Degraded says so.
	SystemDegraded = "degraded"
	// SystemStopping: shutdown began; services stop, nothing starts.
	SystemStopping = "stopping"
)

// FailedResource is one resource that failed to converge.
type FailedResource struct {
	Resource string `json:"resource"`
	Error    string `json:"error"`
}

// CheckResult is one [check.NAME]'s outcome (unit checks).
type CheckResult struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"` // http, tcp, exec
	Target   string        `json:"target"`
	OK       bool          `json:"ok"`
	Detail   string        `json:"detail,omitempty"` // why it failed: what was expected, what came
	Tries    int           `json:"tries"`
	Duration time.Duration `json:"duration"`
}

// SlotStatus is one root slot of a disk machine.
type SlotStatus struct {
	Slot    string `json:"slot"` // a or b
	Running bool   `json:"running,omitempty"`
	Gen     int    `json:"gen,omitempty"` // 0: no boot entry
	Release string `json:"release,omitempty"`
	Kernel  string `json:"kernel,omitempty"`
	// State: committed, trial (running, not yet committed), installed
	// (the next boot tries it), failed (it did not commit), or empty.
	State string `json:"state"`
	// Next: the next boot takes this slot.
	Next   bool   `json:"next,omitempty"`
	Reason string `json:"reason,omitempty"` // why a trial failed
}

// UpdateProgress is one line of `unit update`'s answer.
type UpdateProgress struct {
	Message string `json:"message"`
	// Done carries the result: the slot and generation installed (or
	// rolled back to) and whether the machine is rebooting into it.
	Slot      string `json:"slot,omitempty"`
	Gen       int    `json:"gen,omitempty"`
	Rebooting bool   `json:"rebooting,omitempty"`
}
