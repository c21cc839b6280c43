package qemutests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
)

// buildFleet builds the fleet's program name for the test (unit-fleet:
// the image's agent and the host's operator commands; unit-fleet-server:
// the host's broker).
func buildFleet(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", bin, "../cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	return bin
}

// TestFleet: three machines booted from one image, each with its own
// NoCloud seed (its role and a one-time provisioning token), enrol with
// a broker on the host (unit-fleet serve: TLS, JWT auth), take their
// group's layer of desired state, answer a fan-out filtered by role,
// take a signed restart, and show in the aggregated check; one powered
// off turns UNKNOWN there, and in maintenance it is not alerted on.
func TestFleet(t *testing.T) {
	if _, err := exec.LookPath("genisoimage"); err != nil {
		t.Skip("genisoimage not installed")
	}
	fleetBin, serverBin := buildFleet(t, "unit-fleet"), buildFleet(t, "unit-fleet-server")
	store := filepath.Join(t.TempDir(), "store") // made by serve, 0700
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	// The broker. Guests reach the host's loopback as 10.0.2.2 (qemu's
	// user network), so its certificate names that address.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve := exec.CommandContext(ctx, serverBin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--store", store, "--name", "10.0.2.2")
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); serve.Wait() })
	ready, ended := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var serveLog strings.Builder
	brokerLog := func() string { mu.Lock(); defer mu.Unlock(); return serveLog.String() }
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			serveLog.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "msg=serving") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-ended:
		t.Fatalf("unit-fleet serve ended:\n%s", brokerLog())
	case <-time.After(time.Minute):
		t.Fatalf("unit-fleet serve did not start:\n%s", brokerLog())
	}
	env := append(os.Environ(), fmt.Sprintf("UNIT_FLEET_URL=tls://127.0.0.1:%d", port), "UNIT_FLEET_CREDS="+filepath.Join(store, "admin.creds"))
	fleet := func(args ...string) (string, error) {
		t.Helper()
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Minute)
		defer ccancel()
		cmd := exec.CommandContext(cctx, fleetBin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := fleet(args...)
		if err != nil {
			t.Fatalf("unit-fleet %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	// Desired state before any node exists: a layer per group.
	dir := t.TempDir()
	for _, g := range []string{"web", "db"} {
		layer := filepath.Join(dir, g+".toml")
		os.WriteFile(layer, []byte(fmt.Sprintf("[service.fleetmark]\nexec = [\"/bin/sh\", \"-c\", \"echo FLEET-LAYER group.%s\"]\noneshot = true\n", g)), 0o644)
		must("put", "group."+g, layer)
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[service.x]\nexec = 1\n"), 0o644)
	if out, err := fleet("put", "group.web", bad); err == nil || !strings.Contains(out, "bad.toml:2:") {
		t.Errorf("an invalid layer was put: %v\n%s", err, out)
	}

	system := exampleWith(t, fmt.Sprintf("[net.eth0]\ndhcp = true\n\n[fleet]\nagent = true\nurl = \"tls://10.0.2.2:%d\"\ngroups_from = [\"role\"]\n", port))
	sys := filepath.Join(dir, "system.toml")
	os.WriteFile(sys, []byte(system), 0o644)
	img := filepath.Join(dir, "image")
	bctx, bcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer bcancel()
	if _, err := image.Build(bctx, image.Options{System: sys, Out: img, Init: unitBinary, Fleet: fleetBin, CacheDir: os.Getenv("UNIT_CACHE"),
		Recipes: pkgtest.Recipes(t, "../packages", filepath.Join(dir, "packages"))}); err != nil {
		t.Fatalf("image build: %v", err)
	}

	type node struct {
		id, role, token string
		vm              *VM
		mdir            string
	}
	nodes := []*node{{id: "web-1", role: "web"}, {id: "web-2", role: "web"}, {id: "db-1", role: "db"}}
	for _, n := range nodes {
		tok, err := exec.Command(serverBin, "token", "--store", store, "--group", n.role).Output()
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		seedDir := t.TempDir()
		md := filepath.Join(seedDir, "meta-data")
		n.token = strings.TrimSpace(string(tok))
		os.WriteFile(md, []byte("instance-id: "+n.id+"\nlocal-hostname: "+n.id+"\nrole: "+n.role+"\nfleet_token: "+n.token+"\n"), 0o644)
		iso := filepath.Join(seedDir, "seed.iso")
		if out, err := exec.Command("genisoimage", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock", md).CombinedOutput(); err != nil {
			t.Fatalf("genisoimage: %v\n%s", err, out)
		}
		n.mdir = t.TempDir()
		if err := api.EnsureMachineDir(n.mdir); err != nil {
			t.Fatal(err)
		}
		n.vm = bootWith(t, img, image.RunOptions{Control: api.MachineSocket(n.mdir),
			ExtraArgs: []string{"-drive", "if=virtio,format=raw,readonly=on,file=" + iso}})
	}
	for _, n := range nodes {
		if !n.vm.sees(`FLEET-LAYER group\.`+n.role+`$`, 4*time.Minute) {
			logs, _ := exec.Command(unitBinary, "--machine", n.mdir, "logs", "-n", "200", "unit-fleet").CombinedOutput()
			t.Fatalf("%s never ran its group's layer. Its agent's log:\n%s\nconsole:\n%s\nbroker:\n%s", n.id, logs, n.vm.Console(), brokerLog())
		}
	}
	for _, n := range nodes {
		if strings.Contains(n.vm.Console(), n.token[len(n.token)-40:]) {
			t.Errorf("%s: the token was shown on the console", n.id)
		}
	}

	// The fleet is all OK once every node published its status (each
	// publishes on change; the services settle after the layer came).
	deadline := time.Now().Add(3 * time.Minute)
	var out string
	for {
		out, err = fleet("check")
		if err == nil && strings.HasPrefix(out, "OK: 3 ok, 0 warning, 0 critical, 0 unknown |") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fleet never was OK: 3: %v\n%s\nbroker:\n%s", err, out, brokerLog())
		}
		time.Sleep(2 * time.Second) // a fleet-wide state across three machines: asked again, boundedly
	}
	out = must("run", "--where", "role=web", "status")
	if !strings.Contains(out, "web-1\t") || !strings.Contains(out, "web-2\t") || strings.Contains(out, "db-1") || !strings.Contains(out, "2 / 2 nodes in") {
		t.Errorf("run --where role=web status:\n%s", out)
	}
	out = must("ls")
	for _, n := range nodes {
		if !strings.Contains(out, n.id+"\t") || !strings.Contains(out, "role="+n.role) || !strings.Contains(out, "kernel=") || !strings.Contains(out, "release=") {
			t.Errorf("ls lacks %s or its facts:\n%s", n.id, out)
		}
	}
	// A signed restart reaches one node only; a reader may not.
	before := servicePID(t, nodes[1].mdir, "web")
	must("run", "--where", "node=web-2", "restart", "web")
	if after := servicePID(t, nodes[1].mdir, "web"); after == before {
		t.Errorf("web on web-2 was not restarted: pid %d before and after", after)
	}
	reader := filepath.Join(dir, "reader.creds")
	creds, err := exec.Command(serverBin, "user", "--store", store, "--role", "reader", "ops").Output()
	if err != nil {
		t.Fatalf("user: %v", err)
	}
	os.WriteFile(reader, creds, 0o600)
	if out, err := fleet("run", "--creds", reader, "--ca", filepath.Join(store, "ca.pem"), "--where", "node=web-2", "restart", "web"); err == nil || !strings.Contains(out, "a reader may not change a node") {
		t.Errorf("a reader's restart: %v\n%s", err, out)
	}

	// db-1 powers off: UNKNOWN in the check, then not alerted on.
	machineCLI(t, nodes[2].mdir, time.Minute)("poweroff")
	if err := nodes[2].vm.Wait(2 * time.Minute); err != nil {
		t.Fatalf("db-1 did not power off: %v", err)
	}
	out, err = fleet("check")
	if exitStatus(err) != 3 || !strings.HasPrefix(out, "UNKNOWN: 2 ok, 0 warning, 0 critical, 1 unknown |") || !strings.Contains(out, "UNKNOWN db-1: silent") {
		t.Errorf("after db-1 powered off: %v\n%s", err, out)
	}
	must("disable", "db-1", "--reason", "powered off by the test")
	out, err = fleet("check")
	if err != nil || !strings.HasPrefix(out, "OK: 2 ok, 0 warning, 0 critical, 0 unknown |") || !strings.Contains(out, "maintenance=1") {
		t.Errorf("db-1 in maintenance: %v\n%s", err, out)
	}
	for _, n := range nodes[:2] {
		machineCLI(t, n.mdir, time.Minute)("poweroff")
		n.vm.Wait(2 * time.Minute)
	}
}

// exitStatus is a command's exit code (-1 if it did not exit).
func exitStatus(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

// servicePID is a service's pid on a machine (0 if it has none); the
// status's exit code (3 while it starts) does not matter here.
func servicePID(t *testing.T, mdir, name string) int {
	t.Helper()
	out, _ := exec.Command(unitBinary, "--machine", mdir, "status", name, "--json").Output()
	var st api.StatusReply
	if err := json.Unmarshal(out, &st); err != nil || len(st.Services) != 1 {
		t.Fatalf("unit status %s --json: %v\n%s", name, err, out)
	}
	return st.Services[0].PID
}
