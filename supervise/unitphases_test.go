package supervise

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/unit-os/unit/config"
)

func cmds(c ...[]string) [][]string { return c }

func logTexts(h *harness, name string) []string {
	h.t.Helper()
	lines, err := h.s.Logs(name, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return texts(lines)
}

// A failing exec_pre stops the start as a crashed start does (backoff,
// then failed); the main process never runs; exec_stop_post runs after
// each failed start, also when exec itself cannot start.
func TestExecPreFailingStopsStart(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"pre": {Exec: sh("echo main ran; exec sleep 100"), Restart: config.RestartOnFailure,
			ExecPre:      cmds(sh("echo pre ran; exit 3")),
			ExecStopPost: cmds(sh("echo stop_post ran"))},
		"noexec": {Exec: []string{"/nonexistent/daemon"}, Restart: config.RestartOnFailure,
			ExecStopPost: cmds(sh("echo stop_post ran"))},
	})
	h.rec.wait(t, "pre", StateFailed)
	h.rec.wait(t, "noexec", StateFailed)
	st := h.status("pre")
	if !strings.Contains(st.Reason, `exec_pre[0] "/bin/sh": exit 3`) {
		t.Errorf("pre: %s (%s)", st.State, st.Reason)
	}
	if h.rec.index("pre", StateRunning) >= 0 {
		t.Error("pre was running")
	}
	logs := logTexts(h, "pre")
	if slices.Contains(logs, "main ran") || !slices.Contains(logs, "pre ran") {
		t.Errorf("pre's log: %q", logs)
	}
	// fastBackoff gives up after 3 tries; each ran exec_stop_post.
	for _, name := range []string{"pre", "noexec"} {
		if n := strings.Count(strings.Join(logTexts(h, name), "\n"), "stop_post ran"); n < 3 {
			t.Errorf("%s: exec_stop_post ran %d times, want one per failed start: %q", name, n, logTexts(h, name))
		}
	}
}

// "-" lets a command fail; the next one and the service still run.
func TestExecPreDashMayFail(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"dash": {Exec: sh("echo main ran; exec sleep 100"),
			ExecPre: cmds([]string{"-/bin/sh", "-c", "exit 1"}, sh("echo second pre"))},
	})
	h.rec.wait(t, "dash", StateRunning)
	h.waitLog("dash", is("main ran"))
	logs := logTexts(h, "dash")
	if !slices.Contains(logs, "second pre") || !slices.ContainsFunc(logs, func(l string) bool {
		return strings.Contains(l, `exec_pre[0] "/bin/sh" failed, ignored`)
	}) {
		t.Errorf("log: %q", logs)
	}
}

// "+" runs a command as root while the service runs as its user; a plain
// one runs as the user.
func TestExecPrePlusRunsAsRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"nobody": {Exec: sh("echo main uid $(id -u); exec sleep 100"), User: "65534",
			ExecPre: cmds([]string{"+/bin/sh", "-c", "echo plus uid $(id -u)"}, sh("echo plain uid $(id -u)"))},
	})
	h.waitLog("nobody", is("main uid 65534"))
	logs := logTexts(h, "nobody")
	if !slices.Contains(logs, "plus uid 0") || !slices.Contains(logs, "plain uid 65534") {
		t.Errorf("log: %q", logs)
	}
}

// "!" runs a command as root too (with "-" it may fail); "!!" runs it as
// the user, since unit sets ambient capabilities.
func TestExecPreBangRunsAsRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"bang": {Exec: sh("echo main uid $(id -u); exec sleep 100"), User: "65534",
			ExecPre: cmds([]string{"!/bin/sh", "-c", "echo bang uid $(id -u)"},
				[]string{"-!/bin/sh", "-c", "echo dash-bang uid $(id -u); exit 1"},
				[]string{"!!/bin/sh", "-c", "echo bangbang uid $(id -u)"})},
	})
	h.waitLog("bang", is("main uid 65534"))
	logs := logTexts(h, "bang")
	for _, want := range []string{"bang uid 0", "dash-bang uid 0", "bangbang uid 65534"} {
		if !slices.Contains(logs, want) {
			t.Errorf("log lacks %q: %q", want, logs)
		}
	}
}

// "@" gives argv[0] as the second word; ":" leaves $VAR unexpanded in
// its command while the others expand.
func TestExecPreArgv0AndNoExpand(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"at": {Exec: sh("echo main; exec sleep 100"), Expand: true, Env: map[string]string{"X": "val"},
			ExecPre: cmds([]string{"@/bin/sh", "custom-sh", "-c", "echo argv0=$0"}, // sh -c: $0 is its argv[0]
				[]string{"/bin/sh", "-c", "echo a=$1", "sh", "${X}"},
				[]string{":/bin/sh", "-c", "echo b=$1", "sh", "${X}"},
				[]string{"-@:/bin/sh", "${X}", "-c", "echo c=$0"})},
	})
	h.waitLog("at", is("main"))
	logs := logTexts(h, "at")
	for _, want := range []string{"argv0=custom-sh", "a=val", "b=${X}", "c=${X}"} {
		if !slices.Contains(logs, want) {
			t.Errorf("log lacks %q: %q", want, logs)
		}
	}
}

// exec_post runs once the service is ready, and the service is running
// (dependents may start) only after it succeeded; a failing one kills it.
func TestExecPostAfterReady(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"post": {Exec: sh("sleep 0.1; echo main ready; echo >&3; exec sleep 100"), Ready: "fd:3",
			ExecPost: cmds(sh("echo post ran"))},
		"dep": {Exec: []string{"sleep", "100"}, Requires: []string{"post"}},
		"badpost": {Exec: sh("exec sleep 100"), Restart: config.RestartNever,
			ExecPost: cmds(sh("exit 4"))},
	})
	running := h.rec.wait(t, "post", StateRunning)
	logs := logTexts(h, "post")
	if i, j := slices.Index(logs, "main ready"), slices.Index(logs, "post ran"); i < 0 || j < i {
		t.Errorf("exec_post did not run after ready: %q", logs)
	}
	post := -1
	for i, e := range h.rec.since(0) {
		if e.Resource == "service:post" && e.State == StateStarting && e.Message == "exec_post" {
			post = i
		}
	}
	if post < 0 || post > running {
		t.Errorf("no exec_post phase before running (#%d, running #%d)", post, running)
	}
	if i := h.rec.wait(t, "dep", StateStarting); i < running {
		t.Errorf("dep started (#%d) before post ran (#%d)", i, running)
	}
	h.rec.wait(t, "badpost", StateExited)
	if st := h.status("badpost"); !strings.Contains(st.Reason, `exec_post[0] "/bin/sh": exit 4: signal SIGKILL`) {
		t.Errorf("badpost: %s (%s)", st.State, st.Reason)
	}
}

// exec_stop_post runs once the service's processes are gone, and Stop
// returns after it.
func TestExecStopPostAfterStop(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"sp": {Exec: sh("echo $$ > " + pidFile + "; echo >&3; exec sleep 100"), Ready: "fd:3",
			ExecStopPost: cmds(sh("if kill -0 $(cat " + pidFile + ") 2>/dev/null; then echo main alive; else echo main gone; fi"))},
	})
	h.rec.wait(t, "sp", StateRunning)
	if err := h.s.Stop(h.ctx, "sp"); err != nil {
		t.Fatal(err)
	}
	if logs := logTexts(h, "sp"); !slices.Contains(logs, "main gone") {
		t.Errorf("log once stopped: %q", logs)
	}
	if st := h.status("sp"); st.State != StateStopped {
		t.Errorf("after Stop: %s (%s)", st.State, st.Reason)
	}
}

// expand: $VAR alone splits on white space, ${VAR} is one word, $$ is $,
// from env and env_files, in exec and exec_pre.
func TestExpandFromEnvAndEnvFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "defaults")
	if err := os.WriteFile(file, []byte(`FROMFILE="f1  f2"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"exp": {Expand: true, Env: map[string]string{"OPTS": "-a -b", "ONE": "x y"}, EnvFiles: []string{file},
			Exec: []string{"/bin/sh", "-c", `echo "n=$#"; for a; do echo "arg=$a"; done; exec sleep 100`,
				"sh", "$OPTS", "${ONE}", "$FROMFILE", "$$HOME", "v=${ONE}!"},
			ExecPre: cmds([]string{"/bin/sh", "-c", `echo "pre=$1"`, "sh", "${FROMFILE}"})},
	})
	h.waitLog("exp", is("arg=v=x y!"))
	want := []string{"pre=f1  f2", "n=7", "arg=-a", "arg=-b", "arg=x y", "arg=f1", "arg=f2", "arg=$HOME", "arg=v=x y!"}
	if logs := logTexts(h, "exp"); !slices.Equal(logs, want) {
		t.Errorf("log %q, want %q", logs, want)
	}
}

// A oneshot with remain_after_exit stays running after exit 0 (what it
// requires it satisfies) and runs exec_stop_post only when stopped.
func TestRemainAfterExit(t *testing.T) {
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"setup": {Exec: sh("echo done"), Oneshot: true, RemainAfterExit: true, Restart: config.RestartNever,
			ExecStopPost: cmds(sh("echo undone"))},
		"app": {Exec: []string{"sleep", "100"}, Requires: []string{"setup"}},
	})
	h.rec.wait(t, "app", StateRunning)
	if st := h.status("setup"); st.State != StateRunning || st.PID != 0 || st.LastExit != "exit 0" {
		t.Errorf("setup: %+v", st)
	}
	if slices.Contains(logTexts(h, "setup"), "undone") {
		t.Error("exec_stop_post ran before the stop")
	}
	if err := h.s.Stop(h.ctx, "setup"); err != nil {
		t.Fatal(err)
	}
	if st := h.status("setup"); st.State != StateStopped {
		t.Errorf("setup after Stop: %s", st.State)
	}
	if st := h.status("app"); st.State != StateStopped {
		t.Errorf("app after its requirement's stop: %s", st.State)
	}
	if !slices.Contains(logTexts(h, "setup"), "undone") {
		t.Errorf("no exec_stop_post at stop: %q", logTexts(h, "setup"))
	}
}

// kill_mode = "process" stops only the main process; a child it left
// keeps running (control-group's is TestStopKillsBackgroundChild): after
// the stop it still answers SIGUSR1, which it could not once sent
// SIGTERM or SIGKILL (both kill it before its trap runs).
func TestKillModeProcessLeavesChild(t *testing.T) {
	alive := filepath.Join(t.TempDir(), "alive")
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"proc": {Exec: sh(`sh -c 'trap "echo alive > ` + alive + `" USR1; echo $$; while :; do sleep 0.05; done' & exec sleep 100`),
			KillMode: config.KillProcess},
	})
	line := h.waitLog("proc", func(string) bool { return true })
	child := atoi(t, line)
	t.Cleanup(func() { killPID(child) })
	if err := h.s.Stop(h.ctx, "proc"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(child, syscall.SIGUSR1); err != nil {
		t.Fatalf("child after the stop: %v", err)
	}
	eventually(t, "the child to answer SIGUSR1", func() bool {
		b, _ := os.ReadFile(alive)
		return string(b) == "alive\n"
	})
}
