package supervise

import (
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/event"
)

// Service states, as shown by `unit status`.
const (
	StateStopped  = "stopped"  // not running, not wanted
	StateWaiting  = "waiting"  // wanted, waiting for what it requires
	StateStarting = "starting" // spawned, not ready yet
	StateRunning  = "running"  // ready
	StateStopping = "stopping" // stop signal sent
	StateBackoff  = "backoff"  // exited, restart scheduled
	StateExited   = "exited"   // exited and not restarted by policy
	StateFailed   = "failed"   // gave up (crash loop, failed start); needs `unit start`
)

type service struct {
	name string
	cfg  *config.Service

	state  string
	reason string
	since  time.Time

	wanted         bool // should be running
	restartPending bool // stopping only to start again
	remove         bool // dropped from config: forget once stopped
	failedHard     bool // crash-loop limit hit: not restarted until asked
	dirty          bool // reconcile must visit it (dirty.go)
	ord            int  // its place in the requires order (graph.go)

	pid       int
	gen       int // incremented per spawn; stale exits and probe results compare it
	startedAt time.Time
	readyAt   time.Time
	restarts  int // consecutive unstable exits
	total     int // restarts since boot
	lastExit  string
	exitOK    bool // the last run exited 0 (a finished one-shot satisfies requires)
	exitAt    time.Time
	cgroup    string
	out       *os.File // read end of the output pipe, owned by pump
	killedFor string   // why we SIGKILLed it, reported with its exit
	oomBase   int64    // its cgroup's oom_kill count at start; -1: unknown
	oomLast   int64    // its cgroup's oom_kill count at its last exit; -1: unknown
	// cgroupKilled: cgroup.kill was written to the cgroup, which a start
	// must not reuse (cgroupFor); cgroupLimits: what was written to it.
	cgroupKilled bool
	cgroupLimits cgroupLimits

	// One timer at a time: ready timeout, stop timeout or backoff. timerSeq
	// makes a timer that fired before being disarmed inert.
	timer     *time.Timer
	timerSeq  int
	probeStop func()

	pgid       int    // process group of the spawned process (MAINPID may differ)
	draining   bool   // main process gone, waiting for its cgroup to empty
	notifyText string // last STATUS= from sd_notify
	watchdog   timerSlot
	health     healthState

	// Unit-file phases (phases.go, forking.go).
	control      func()     // cancels the running exec_pre or exec_post
	postRunning  bool       // exec_post runs; ready once it succeeded
	postDone     bool       // exec_post succeeded for this run
	remained     bool       // a oneshot kept running after exit 0 (remain_after_exit)
	forked       bool       // ready = "forking": the first process exited 0
	forkExit     *Exit      // that exit, while the pid file is awaited
	startFailure string     // why a start failed after its process exited 0 (pid file)
	spawnTicks   uint64     // boot clock at spawn, in /proc's ticks, to age forked pids
	privateTmp   string     // private_tmp: its /tmp and /var/tmp, until it stops (namespace.go)
	note         *stateNote // a state passed through, not reported yet

	// Computed once per config (startcache.go).
	envOf    *config.Service
	env      []string
	readyOf  *config.Service
	ready    config.ShortSpec
	pathOf   *config.Service
	pathProg string // the program path resolves, PATH searched
	path     string
}

func (v *service) active() bool {
	switch v.state {
	case StateStarting, StateRunning, StateStopping:
		return true
	}
	return false
}

// sameService reports whether a config change leaves the running process valid.
func sameService(a, b *config.Service) bool {
	return reflect.DeepEqual(a.Comparable(), b.Comparable())
}

func serviceName(id string) string { return strings.TrimPrefix(id, "service:") }

func (s *Supervisor) setState(v *service, state, reason string, fields event.Fields) {
	if n := v.note; n != nil {
		v.note = nil
		s.report(v, n.state, n.reason, n.fields)
	}
	if v.state == state && v.reason == reason {
		return
	}
	v.state, v.reason, v.since = state, reason, time.Now()
	s.touchAround(v)
	s.report(v, state, reason, fields)
}

// report logs a state and sends its event.
func (s *Supervisor) report(v *service, state, reason string, fields event.Fields) {
	s.log.Info("service", "name", v.name, "state", state, "reason", reason)
	s.emit(event.Event{Resource: "service:" + v.name, State: state, Message: reason, Fields: fields})
}

// stateNote is a state the service passed through without stopping there
// (an immediate restart's backoff), reported with its next state change.
type stateNote struct {
	state, reason string
	fields        event.Fields
}

// dependents returns the services that require name, sorted by name.
func (s *Supervisor) dependents(name string) []*service { return s.graph().dependents[name] }
