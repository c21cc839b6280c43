// Command fleet measures unit's fleet side (package fleet) on this
// machine, in one run, and prints a table:
//
//   - push to converged: one KV put of a new "all" layer to N nodes, each
//     a real agent.Agent on its own connection with its own config
//     directory, until each has written its layer file;
//   - fan-out: operator.Ask of status and ping to N agent.Responders, until
//     all N answered (and with the sliding window alone, for its cost);
//   - one agent as its own process (unit-fleet agent, or a stand-in when
//     cmd/unit-fleet does not build): RSS and idle wake-ups;
//   - the broker (nats-server v2.15.2 as its own process) with N nodes
//     following: RSS and idle CPU.
//
// Push and fan-out run twice: against an embedded broker (as
// unit-fleet-server runs it) and against the broker process. Published figures of
// MCollective and Choria are printed beside, labelled as such: there is
// no Choria here. Nothing is asserted. Usage, from the repository:
//
//	go run ./bench/fleet [-nodes 1000] [-pushes 10] [-rounds 20] [-idle 60s]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/fleet"
)

type options struct {
	nodes, pushes, rounds, parallel int
	idle                            time.Duration
	dir, agentBin                   string
	reporters, serverDefaults       bool
}

func main() {
	if os.Getenv("BENCH_FLEET_ROLE") == "idle" {
		idleRole()
		return
	}
	var o options
	flag.IntVar(&o.nodes, "nodes", 1000, "nodes (one connection, agent, responder and reporter each)")
	flag.IntVar(&o.pushes, "pushes", 10, "pushes of a new all layer")
	flag.IntVar(&o.rounds, "rounds", 20, "fan-out rounds of each kind")
	flag.IntVar(&o.parallel, "parallel", 50, "nodes connecting at once at the start")
	flag.DurationVar(&o.idle, "idle", 0, "idle window for the agent process's wake-ups (0: 60s, 10s below 1000 nodes)")
	flag.StringVar(&o.dir, "dir", "", "where the nodes' config directories and the brokers' stores go (default $TMPDIR)")
	flag.StringVar(&o.agentBin, "agent", "", "the agent binary to measure (default: go build ./cmd/unit-fleet)")
	flag.BoolVar(&o.reporters, "reporters", true, "run each node's status reporter, as unit-fleet agent does")
	flag.BoolVar(&o.serverDefaults, "server-defaults", false, "keep nats-server's limit of 1,000 consumers per stream (333 nodes of 3 watches follow)")
	flag.Parse()
	if o.idle == 0 {
		o.idle = 60 * time.Second
		if o.nodes < 1000 {
			o.idle = 10 * time.Second
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/fleet:", err)
		os.Exit(1)
	}
}

// idleRole is a Go program doing nothing (blocked on a signal) that links
// nats-server, as unit-fleet did before the broker became its own
// program: nats-server's process-stats package (server/pse) reads
// /proc/self/stat every second from its init on, in every program that
// links it. Measured beside the agent, and beside a plain idle Go program
// (bench/fleet/idle).
func idleRole() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
	<-ch
}

// bench is what the phases share.
type bench struct {
	o       options
	root    string // the module
	work    string
	socket  string // the fake unit's control socket, shared by every node
	log     *slog.Logger
	value   string // the current all value
	version int
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// nextValue is a new all layer: a small file resource, as a fleet's
// common layer would hold.
func (b *bench) nextValue() string {
	b.version++
	b.value = fmt.Sprintf("[file.\"/etc/motd\"]\ncontent = \"fleet layer version %d\\n\"\n", b.version)
	return b.value
}

// phase is push and fan-out against one broker.
type phase struct {
	started time.Duration
	pushes  []pushResult
	fan     map[string]fanoutResult
}

// brokerProc is what the broker process used.
type brokerProc struct {
	rssEmpty, rssFollowing, rssAfter, hwm int64 // kB
	idleCPU                               time.Duration
}

// agentProc is the agent process's figures over the idle window.
type agentProc struct {
	what                  string
	linksServer           bool  // its /proc sampler wakes it every second
	rssSettled, rssIdle   int64 // kB
	threads               int64
	switches              int64 // the agent's
	idleNats, idlePlain   int64 // idle Go programs': one linking nats-server, one plain
	msgs                  int64 // messages the broker sent it (-1: unknown)
	heartbeat             time.Duration
	watches               int
	benchCPU, benchWindow time.Duration
}

func run(ctx context.Context, o options) error {
	nofile, err := raiseNoFile()
	if err != nil {
		return err
	}
	b := &bench{o: o, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if b.root, err = moduleRoot(); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp(o.dir, "fleetbench-"); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(b.work)

	// One fake unit for every node: in production each node asks its own
	// unit on its own CPU; here the thousand answers share these cores.
	b.socket = filepath.Join(b.work, "unit.sock")
	l, err := api.Listen(b.socket)
	if err != nil {
		return err
	}
	sctx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	go api.Serve(sctx, l, fakeUnit, b.log)

	b.progress("building nats-server v2.15.2 and the agent")
	natsBin := filepath.Join(b.work, "nats-server")
	if err := goBuild(b.root, natsBin, "github.com/nats-io/nats-server/v2"); err != nil {
		return err
	}
	agentBin, agentWhat, err := b.buildAgent()
	if err != nil {
		return err
	}
	idleBin := filepath.Join(b.work, "idle")
	if err := goBuild(b.root, idleBin, "./bench/fleet/idle"); err != nil {
		return err
	}

	reporters := fmt.Sprintf("%d status reporters", o.nodes)
	if !o.reporters {
		reporters = "no status reporters"
	}
	fmt.Printf("fleet bench: %d nodes: %d connections, %d KV watches (all, group.web, node.ID each), %d responders, %s\n",
		o.nodes, o.nodes, 3*o.nodes, o.nodes, reporters)
	fmt.Printf("machine: %d CPUs, %s, RLIMIT_NOFILE %d; nodes' layer files and caches on %s (%s), fsynced as in production\n",
		runtime.NumCPU(), runtime.Version(), nofile, b.work, fsType(b.work))
	if o.serverDefaults {
		fmt.Println("desired-state stream: nats-server's default limit of 1,000 consumers per stream: 333 nodes of 3 watches can follow")
	} else {
		fmt.Printf("desired-state stream: max_consumers %d (nats-server's default, 1,000 per stream, lets only 333 nodes of 3 watches follow)\n", maxConsumers)
	}

	// Phase 1: the broker embedded in this process, as unit-fleet-server
	// runs it.
	b.progress("embedded broker: starting %d nodes", o.nodes)
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(b.work, "embedded"), NoSigs: true})
	if err != nil {
		return fmt.Errorf("embedded nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		return errors.New("embedded nats-server did not start")
	}
	emb, c, done, err := b.measure(ctx, s.ClientURL(), "embedded", true, nil)
	if err != nil {
		s.Shutdown()
		return err
	}
	done()
	c.stop()
	s.Shutdown()
	s.WaitForShutdown()

	// Phase 2: the broker as its own process, for its memory; the same
	// figures again; then one agent as its own process.
	b.progress("nats-server process: starting %d nodes", o.nodes)
	ns, err := startNatsServer(natsBin, filepath.Join(b.work, "process"))
	if err != nil {
		return err
	}
	defer ns.stop()
	var bp brokerProc
	time.Sleep(time.Second) // its start's garbage collected
	bp.rssEmpty, _ = procStatus(ns.pid(), "VmRSS")
	proc, c, done, err := b.measure(ctx, ns.url, "process", false, func() {
		time.Sleep(3 * time.Second) // the start's garbage collected, its buffers returned
		bp.rssFollowing, _ = procStatus(ns.pid(), "VmRSS")
		b.progress("broker RSS with %d nodes following: %d kB", o.nodes, bp.rssFollowing)
	})
	if err != nil {
		return err
	}
	defer done()
	defer c.stop()
	bp.rssAfter, _ = procStatus(ns.pid(), "VmRSS")
	bp.hwm, _ = procStatus(ns.pid(), "VmHWM")
	ap, err := b.agentProcess(ctx, agentBin, agentWhat, idleBin, ns, &bp)
	if err != nil {
		return err
	}
	b.print(emb, proc, bp, ap)
	return nil
}

// buildAgent builds unit-fleet, the agent every node runs.
func (b *bench) buildAgent() (bin, what string, err error) {
	if b.o.agentBin != "" {
		return b.o.agentBin, b.o.agentBin, nil
	}
	bin = filepath.Join(b.work, "unit-fleet")
	if err := goBuild(b.root, bin, "./cmd/unit-fleet"); err != nil {
		return "", "", fmt.Errorf("build unit-fleet: %w", err)
	}
	return bin, "unit-fleet agent (cmd/unit-fleet)", nil
}

// measure starts the nodes against url, times the pushes and the
// fan-outs, and returns with the nodes still running (the caller stops
// them, and calls done to close the operator's connection). following
// runs once every node follows.
func (b *bench) measure(ctx context.Context, url, name string, windows bool, following func()) (*phase, *cluster, func(), error) {
	nc, err := nats.Connect(url, nats.Name("bench operator"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: connect: %w", name, err)
	}
	fail := func(err error) (*phase, *cluster, func(), error) {
		nc.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(err)
	}
	kv, err := createBuckets(ctx, js, !b.o.serverDefaults)
	if err != nil {
		return fail(err)
	}
	rev, err := kv.PutString(ctx, "all", b.nextValue())
	if err != nil {
		return fail(fmt.Errorf("put all: %w", err))
	}
	c, err := startCluster(ctx, clusterOpts{url: url, dir: filepath.Join(b.work, name, "nodes"), socket: b.socket,
		n: b.o.nodes, parallel: b.o.parallel, reporters: b.o.reporters, log: b.log}, rev)
	if err != nil {
		return fail(err)
	}
	b.progress("%s: %d nodes following in %v", name, b.o.nodes, c.started.Round(time.Millisecond))
	if following != nil {
		following()
	}
	ph := &phase{started: c.started, fan: map[string]fanoutResult{}}
	for i := range b.o.pushes {
		r, err := c.push(ctx, kv, b.nextValue())
		if err != nil {
			c.stop()
			return fail(err)
		}
		ph.pushes = append(ph.pushes, r)
		b.progress("%s: push %d: %d nodes, last at %v", name, i+1, r.got, r.last.Round(time.Millisecond))
		// The nodes' tail (cache, status puts) done before the next: as
		// long as the push took, at least 300 ms.
		time.Sleep(max(r.last, 300*time.Millisecond))
	}
	type kind struct {
		cmd    string
		expect bool
	}
	kinds := []kind{{"ping", true}, {"status", true}}
	if windows {
		kinds = append(kinds, kind{"ping", false}, kind{"status", false})
	}
	for _, k := range kinds {
		r, err := c.fanout(ctx, nc, k.cmd, k.expect, 300*time.Millisecond, b.o.rounds)
		if err != nil {
			c.stop()
			return fail(err)
		}
		ph.fan[fanKey(k.cmd, k.expect)] = r
		b.progress("%s: fan-out %s: p50 %v, %d replies at least", name, fanKey(k.cmd, k.expect), pct(r.took, 0.5).Round(time.Millisecond), r.minReplies)
	}
	return ph, c, nc.Close, nil
}

func fanKey(cmd string, expect bool) string {
	if expect {
		return cmd + " expected"
	}
	return cmd + " window"
}

// agentProcess runs one agent as its own process against the broker
// process, waits for it to follow, and measures it over the idle window;
// the broker's and this process's CPU over the same window too.
func (b *bench) agentProcess(ctx context.Context, bin, what, idleBin string, ns *natsServer, bp *brokerProc) (*agentProc, error) {
	const node = "n1"
	dir := filepath.Join(b.work, "agent")
	cfgDir, state := filepath.Join(dir, "config"), filepath.Join(dir, "state")
	for _, d := range []string{cfgDir, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Pass what the binary takes: its flags are being rewritten.
	help, _ := exec.Command(bin, "agent", "-h").CombinedOutput()
	takes := func(f string) bool {
		return bytes.Contains(help, []byte("-"+f+" ")) || bytes.Contains(help, []byte("-"+f+"\n"))
	}
	args := []string{"agent", "--url", ns.url, "--node", node, "--config", cfgDir, "--state", state, "--socket", b.socket}
	if takes("group") {
		args = append(args, "--group", "web")
	}
	if takes("imds") {
		args = append(args, "--imds", "off")
	}
	if takes("token-file") {
		args = append(args, "--token-file", filepath.Join(dir, "no-token"))
	}
	logf, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	idleNats, idlePlain := exec.Command(self), exec.Command(idleBin)
	idleNats.Env = append(os.Environ(), "BENCH_FLEET_ROLE=idle")
	for _, c := range []*exec.Cmd{idleNats, idlePlain} {
		if err := c.Start(); err != nil {
			return nil, fmt.Errorf("start an idle Go program: %w", err)
		}
		defer func() {
			_ = c.Process.Signal(syscall.SIGTERM)
			_ = c.Wait()
		}()
	}
	b.progress("agent process: %s %s", filepath.Base(bin), strings.Join(args, " "))

	// Following when its all layer holds the current value (a poll of
	// its start, not of anything measured).
	layer := filepath.Join(cfgDir, config.LayerDir, "all.toml")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got, err := os.ReadFile(layer); err == nil && string(got) == b.value {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("the agent process did not write its all layer in 60 s; its log:\n%s", log)
		}
	}
	time.Sleep(5 * time.Second) // its start's work done
	pid := cmd.Process.Pid
	ap := &agentProc{what: what, msgs: -1, watches: 3}
	if mods, err := exec.Command("go", "version", "-m", bin).Output(); err == nil {
		ap.linksServer = bytes.Contains(mods, []byte("github.com/nats-io/nats-server/v2"))
	}
	ap.rssSettled, _ = procStatus(pid, "VmRSS")
	isAgent := func(name string) bool { return !strings.HasPrefix(name, "bench ") }
	sw0, err := ctxSwitches(pid)
	if err != nil {
		return nil, err
	}
	in0, _ := ctxSwitches(idleNats.Process.Pid)
	ip0, _ := ctxSwitches(idlePlain.Process.Pid)
	m0, merr := ns.outMsgs(ctx, isAgent)
	bc0, _ := cpuTime(ns.pid())
	self0, _ := cpuTime(os.Getpid())
	b.progress("agent process: settled at %d kB; idle for %v", ap.rssSettled, b.o.idle)
	select {
	case <-time.After(b.o.idle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	sw1, err := ctxSwitches(pid)
	if err != nil {
		return nil, err
	}
	in1, _ := ctxSwitches(idleNats.Process.Pid)
	ip1, _ := ctxSwitches(idlePlain.Process.Pid)
	m1, merr1 := ns.outMsgs(ctx, isAgent)
	bc1, _ := cpuTime(ns.pid())
	self1, _ := cpuTime(os.Getpid())
	ap.switches, ap.idleNats, ap.idlePlain = sw1-sw0, in1-in0, ip1-ip0
	if merr == nil && merr1 == nil {
		ap.msgs = m1 - m0
	}
	bp.idleCPU = bc1 - bc0
	ap.benchCPU, ap.benchWindow = self1-self0, b.o.idle
	ap.rssIdle, _ = procStatus(pid, "VmRSS")
	ap.threads, _ = procStatus(pid, "Threads")
	ap.heartbeat = b.heartbeat(ctx, ns.url)
	return ap, nil
}

// heartbeat is the idle heartbeat the broker has for the KV watches'
// ordered consumers (nats.go asks for 5 s).
func (b *bench) heartbeat(ctx context.Context, url string) time.Duration {
	nc, err := nats.Connect(url, nats.Name("bench operator"))
	if err != nil {
		return 0
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "KV_"+fleet.Bucket)
	if err != nil {
		return 0
	}
	for ci := range st.ListConsumers(ctx).Info() {
		return ci.Config.IdleHeartbeat
	}
	return 0
}

// pct is the nearest-rank percentile q of ds.
func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)]
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// pushFigures are p50, p99, max over every node and push, the time to the
// last node (median and max over pushes), and how many applied.
func pushFigures(p *phase) (p50, p99, mx, lastMed, lastMax time.Duration, got, want int) {
	var all, lasts []time.Duration
	for _, r := range p.pushes {
		all = append(all, r.lat...)
		lasts = append(lasts, r.last)
		got += r.got
	}
	return pct(all, 0.5), pct(all, 0.99), pct(all, 1), pct(lasts, 0.5), pct(lasts, 1), got, len(all)
}

func (b *bench) print(emb, proc *phase, bp brokerProc, ap *agentProc) {
	n := b.o.nodes
	row := func(cells ...string) { fmt.Println("| " + strings.Join(cells, " | ") + " |") }
	fmt.Println()
	row("figure", "embedded broker (as unit-fleet-server runs it)", "nats-server v2.15.2 process", "target")
	row("---", "---", "---", "---")
	row(fmt.Sprintf("%d nodes connected to all following (%d at once)", n, b.o.parallel), ms(emb.started), ms(proc.started), "")
	e50, e99, emx, elm, elx, eg, _ := pushFigures(emb)
	p50, p99, pmx, plm, plx, pg, _ := pushFigures(proc)
	samples := fmt.Sprintf("%d nodes × %d pushes", n, b.o.pushes)
	row("push to layer file written, p50 / p99 / max over "+samples, ms(e50)+" / "+ms(e99)+" / "+ms(emx), ms(p50)+" / "+ms(p99)+" / "+ms(pmx), "p99 < 1 s")
	row("push to the last node written, median / max of the pushes", ms(elm)+" / "+ms(elx), ms(plm)+" / "+ms(plx), "")
	if want := n * b.o.pushes; eg < want || pg < want {
		row("layers applied of "+fmt.Sprint(want), fmt.Sprint(eg), fmt.Sprint(pg), "")
	}
	fan := func(p *phase, k string) string {
		r, ok := p.fan[k]
		if !ok {
			return "—"
		}
		return fanCell(r, n)
	}
	rounds := fmt.Sprintf("p50 / max of %d rounds", b.o.rounds)
	row(fmt.Sprintf("fan-out `status` (control socket), all %d expected: the wait ends when all answered, %s", n, rounds), fan(emb, "status expected"), fan(proc, "status expected"), "< 400 ms")
	row(fmt.Sprintf("fan-out `ping`, all %d expected, %s", n, rounds), fan(emb, "ping expected"), fan(proc, "ping expected"), "< 400 ms")
	row("fan-out `status`, none expected: ends 300 ms (the window) after the last reply, "+rounds, fan(emb, "status window"), fan(proc, "status window"), "")
	row("fan-out `ping`, none expected, "+rounds, fan(emb, "ping window"), fan(proc, "ping window"), "")
	row(fmt.Sprintf("broker RSS: no node / %d nodes following (settled 3 s) / after the pushes and fan-outs / peak", n), "(in this process)",
		mb(bp.rssEmpty)+" / "+mb(bp.rssFollowing)+" / "+mb(bp.rssAfter)+" / "+mb(bp.hwm), "")
	row("broker RSS per node following (its connection, subscriptions and 3 consumers)", "",
		fmt.Sprintf("%.0f kB", float64(bp.rssFollowing-bp.rssEmpty)/float64(n)), "")
	idleS := ap.benchWindow.Seconds()
	row(fmt.Sprintf("broker CPU, %d nodes idle, over %v", n, ap.benchWindow), "", fmt.Sprintf("%.2f s (%.1f%% of a core)", bp.idleCPU.Seconds(), 100*bp.idleCPU.Seconds()/idleS), "")
	row(fmt.Sprintf("this process (%d idle in-process nodes), CPU over the same window", n), "", fmt.Sprintf("%.2f s (%.1f%% of a core)", ap.benchCPU.Seconds(), 100*ap.benchCPU.Seconds()/idleS), "")
	row("one agent as its own process: RSS settled / after the idle window, threads", "", fmt.Sprintf("%s / %s, %d threads", mb(ap.rssSettled), mb(ap.rssIdle), ap.threads), "")
	row(fmt.Sprintf("its wake-ups (context switches, all threads) over %v idle", ap.benchWindow), "", fmt.Sprint(ap.switches), "the heartbeat liveness needs")
	row("beside it, idle Go programs: linking nats-server (its /proc sampler, 1 s) / plain", "", fmt.Sprintf("%d / %d", ap.idleNats, ap.idlePlain), "")
	msgs := "unknown (connz)"
	if ap.msgs >= 0 {
		msgs = fmt.Sprintf("%d: one per %.1f s per watch over %d watches", ap.msgs, idleS*float64(ap.watches)/math.Max(float64(ap.msgs), 1), ap.watches)
	}
	row("messages the broker sent it in that window (the watches' idle heartbeats)", "", msgs, "")
	hb := "unknown"
	if ap.heartbeat > 0 {
		hb = ap.heartbeat.String()
	}
	row("the watches' (ordered consumers') idle heartbeat, as the broker has it", "", hb, "")
	fmt.Println()
	fmt.Printf("agent measured: %s; links nats-server: %v\n", ap.what, ap.linksServer)
	fmt.Println("converged here = the node's layer file written (fsynced); unit's own reload after its inotify event is not included.")
	fmt.Println("every node, the broker (phase 1) and the one fake control socket share these cores: in production each node works on its own.")
	fmt.Println()
	fmt.Println("published figures, not measured here (no MCollective or Choria on this machine):")
	fmt.Println("  MCollective, as the issue quotes its docs: 47 hosts in 395 ms; its CLI docs' `mco ping` example: 25 replies, slowest 305.58 ms")
	fmt.Println("  Choria (devco.net, 'Load testing Choria', 2017): 5,500 nodes on one 2-CPU 4 GB VM; 50,000 nodes on one NATS broker using")
	fmt.Println("    about 1-1.5 GB at peak, an RPC to every one of them in about 16 s")
}

func fanCell(r fanoutResult, n int) string {
	s := ms(pct(r.took, 0.5)) + " / " + ms(pct(r.took, 1))
	if r.minReplies < n {
		// With none expected, a first reply later than the window ends
		// the wait early.
		s += fmt.Sprintf(", fewest replies %d", r.minReplies)
	}
	return s
}

// fsType names the file system dir is on (fsync costs differ).
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	switch uint32(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x794c7630:
		return "overlayfs"
	}
	return fmt.Sprintf("fs 0x%x", st.Type)
}
