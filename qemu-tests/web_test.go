package qemutests

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"

	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/pkgbuild"
)

// webServices are the long-running services of examples/web.
var webServices = []string{"app", "chrony", "nginx", "postgres", "redis", "ssh"}

// webGuest is one boot of examples/web with its forwarded ports.
type webGuest struct {
	*VM
	http, ssh, redis int
	key, knownHosts  string
}

// TestWebExample builds examples/web (Debian's nginx, Redis, PostgreSQL
// 15, dropbear and chrony, each with only its runtime closure) in both
// formats and checks every service from the host, through forwarded
// ports and an SSH login with a key the system's managed authorized_keys
// holds. The disk format boots twice: rows written to PostgreSQL and the
// SSH host key (both on the data partition) are there after the reboot.
func TestWebExample(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("ssh client missing (make deps installs openssh-client)")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "unit-test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	system := webSystem(t, strings.TrimSpace(string(pub)))
	recipes := pkgtest.Recipes(t, "../packages", t.TempDir())

	t.Run("initramfs", func(t *testing.T) {
		out := buildWeb(t, system, recipes, image.FormatInitramfs)
		g := bootWeb(t, out, key, nil)
		g.checkServices(t)
		// No disk: /var is RAM, and boot did not wait for a partition.
		g.Expect(`^unit: no data partition \(booted without a root partition\): /var is in RAM`, 0, time.Second)
		if got := g.psql(t, "select 6*7"); got != "42" {
			t.Errorf("psql select 6*7 = %q", got)
		}
		g.poweroff(t)
	})

	t.Run("disk", func(t *testing.T) {
		out := buildWeb(t, system, recipes, image.FormatDisk)
		g := bootWeb(t, out, key, nil)
		g.checkServices(t)
		g.Expect(`^unit: data partition /dev/\S+ \(label unit-data\) mounted on /var`, 0, time.Second)
		g.psql(t, "create table visits (n int); insert into visits values (42)")
		g.poweroff(t)

		// Second boot of the same disk: the table and the host key (the
		// client's known_hosts from the first boot must still match).
		g2 := bootWeb(t, out, key, g)
		if got := g2.psql(t, "select n from visits"); got != "42" {
			t.Errorf("after reboot: select n from visits = %q, want 42", got)
		}
		g2.poweroff(t)
	})
}

// webSystem is examples/web/system.toml with pub as root's authorized key.
func webSystem(t *testing.T, pub string) string {
	t.Helper()
	b, err := os.ReadFile("../examples/web/system.toml")
	if err != nil {
		t.Fatal(err)
	}
	const placeholder = `content = "# put your public key here\n"`
	if !strings.Contains(string(b), placeholder) {
		t.Fatalf("examples/web/system.toml has no %s", placeholder)
	}
	return strings.Replace(string(b), placeholder, `content = "`+pub+`\n"`, 1)
}

// buildWeb builds the web system in format from the recipes in dir
// (pkgtest.Recipes: pins the archive dropped are re-pinned there).
func buildWeb(t *testing.T, system, recipes, format string) string {
	t.Helper()
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.toml")
	if err := os.WriteFile(sys, []byte(system), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := pkgbuild.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	out := filepath.Join(dir, "image")
	o := image.Options{System: sys, Out: out, Init: unitBinary, Format: format,
		CacheDir: os.Getenv("UNIT_CACHE"), Store: store, Recipes: recipes}
	res, err := image.Build(ctx, o)
	if err != nil {
		t.Fatalf("image build: %v", err)
	}
	// The package defaults the system replaces are listed.
	var over []string
	for _, o := range res.Overrides {
		over = append(over, fmt.Sprintf("%s (%s, conffile %v)", o.Path, o.Package, o.Conffile))
	}
	if s := strings.Join(over, ", "); s != "/etc/nginx/nginx.conf (nginx-common, conffile true)" {
		t.Errorf("overrides = %s; want nginx-common's nginx.conf, a conffile", s)
	}
	return out
}

// bootWeb boots the image with ports forwarded and waits for every
// service to be ready. A second boot (prev) keeps the ports and the
// client's known_hosts, so a changed host key fails the login.
func bootWeb(t *testing.T, out, key string, prev *webGuest) *webGuest {
	t.Helper()
	g := &webGuest{http: freePort(t), ssh: freePort(t), redis: freePort(t), key: key,
		knownHosts: filepath.Join(t.TempDir(), "known_hosts")}
	if prev != nil {
		g.http, g.ssh, g.redis, g.knownHosts = prev.http, prev.ssh, prev.redis, prev.knownHosts
	}
	g.VM = bootWith(t, out, image.RunOptions{Memory: "1G", Forward: []string{
		strconv.Itoa(g.http) + ":80", strconv.Itoa(g.ssh) + ":22", strconv.Itoa(g.redis) + ":6379"}})
	g.waitReady(t)
	return g
}

func (g *webGuest) waitReady(t *testing.T) {
	t.Helper()
	g.Expect(`^unit: all \d+ services running`, 0, 4*time.Minute)
}

// checkServices asks each service for an answer from the host.
func (g *webGuest) checkServices(t *testing.T) {
	t.Helper()
	base := fmt.Sprintf("http://127.0.0.1:%d", g.http)
	if got := fetch(t, base+"/", 30*time.Second); !strings.Contains(got, "nginx from Debian, managed by unit") {
		t.Errorf("GET / = %q", got)
	}
	// The app behind nginx counts visits in Redis.
	first := fetch(t, base+"/app/hello", 30*time.Second)
	second := fetch(t, base+"/app/hello", 30*time.Second)
	if !strings.HasPrefix(first, "app: hello from web, visit ") || first == second {
		t.Errorf("GET /app/hello twice = %q, %q; want the app's answer with a growing visit count", first, second)
	}
	if got := g.redisCmd(t, "PING"); got != "+PONG" {
		t.Errorf("redis PING = %q", got)
	}
	status := g.sshRun(t, "unit status")
	for _, s := range webServices {
		if !strings.Contains(status, "\n"+s) || !lineHas(status, s, "running") {
			t.Errorf("unit status over ssh: %s not running:\n%s", s, status)
		}
	}
	if got := g.sshRun(t, "chronyc -n tracking"); !strings.Contains(got, "Leap status") {
		t.Errorf("chronyc tracking = %q", got)
	}
}

// lineHas says whether the status line of service name has word.
func lineHas(status, name, word string) bool {
	for _, l := range strings.Split(status, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && f[0] == name {
			return f[1] == word
		}
	}
	return false
}

// redisCmd sends one inline command to Redis through the forwarded port.
func (g *webGuest) redisCmd(t *testing.T, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", g.redis), 10*time.Second)
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		t.Fatalf("redis: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("redis %s: %v", cmd, err)
	}
	return strings.TrimSpace(line)
}

// sshRun logs in as root with the test key and runs cmd. The host key is
// learnt on first use and must match afterwards (known_hosts).
func (g *webGuest) sshRun(t *testing.T, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ssh", "-i", g.key, "-p", strconv.Itoa(g.ssh),
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile="+g.knownHosts,
		"root@127.0.0.1", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh %q: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// psql runs SQL as the postgres user over the local socket (peer auth)
// and returns the unaligned result.
func (g *webGuest) psql(t *testing.T, sql string) string {
	t.Helper()
	out := g.sshRun(t, `cd / && su -s /bin/sh postgres -c "/usr/lib/postgresql/15/bin/psql -h /run/postgresql -X -A -t -q -c '`+sql+`'"`)
	return strings.TrimSpace(out)
}

// poweroff asks the guest to power off over ssh and waits for qemu.
func (g *webGuest) poweroff(t *testing.T) {
	t.Helper()
	// The session may end with the machine: only qemu's exit counts.
	exec.Command("ssh", "-i", g.key, "-p", strconv.Itoa(g.ssh), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile="+g.knownHosts, "root@127.0.0.1", "unit poweroff").Run()
	if err := g.Wait(2 * time.Minute); err != nil {
		t.Fatalf("qemu did not exit after power off: %v", err)
	}
}
