package qemutests

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/pkgbuild/pkgtest"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/pkgbuild"
)

// TestDebianExample builds examples/debian as a user would: nginx,
// OpenSSH, chrony and haproxy from Debian, one line of TOML each, every
// other key from the packages' own unit files, tmpfiles.d, sysusers.d and
// postinst idioms. The build lists what it does not honour; the guest
// runs all four; each answers from the host; the syslog lines of chrony
// (which logs only to syslog) are in its own log.
func TestDebianExample(t *testing.T) {
	recipes := pkgtest.Recipes(t, "../packages", t.TempDir())
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.toml")
	b, err := os.ReadFile("../examples/debian/system.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sys, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The pinned ids travel with the system, as a user keeps them.
	if ids, err := os.ReadFile("../examples/debian/system.ids"); err == nil {
		os.WriteFile(filepath.Join(dir, "system.ids"), ids, 0o644)
	}
	store, err := pkgbuild.DefaultStore()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	out := filepath.Join(dir, "image")
	var notes bytes.Buffer
	if _, err := image.Build(ctx, image.Options{System: sys, Out: out, Init: unitBinary, Format: image.FormatInitramfs,
		CacheDir: os.Getenv("UNIT_CACHE"), Store: store, Recipes: recipes, Notes: &notes}); err != nil {
		t.Fatalf("image build: %v", err)
	}
	// What unit does not honour is listed with the unit file's line.
	if !regexp.MustCompile(`(?m)^/lib/systemd/system/chrony\.service:\d+: SystemCallFilter= not honoured`).Match(notes.Bytes()) {
		t.Errorf("build notes lack chrony.service's SystemCallFilter= with its line:\n%s", notes.String())
	}

	mdir := t.TempDir()
	if err := api.EnsureMachineDir(mdir); err != nil {
		t.Fatal(err)
	}
	web, ssh := freePort(t), freePort(t)
	vm := bootWith(t, out, image.RunOptions{Memory: "1G", Control: api.MachineSocket(mdir),
		Forward: []string{strconv.Itoa(web) + ":80", strconv.Itoa(ssh) + ":22"}})
	vm.Expect(`^unit: all \d+ services running`, 0, 4*time.Minute)
	unit := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, unitBinary, append([]string{"--machine", mdir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("unit %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	status := unit("status")
	for _, s := range []string{"nginx", "ssh", "chrony", "haproxy"} {
		if !lineHas(status, s, "running") {
			t.Errorf("%s not running:\n%s", s, status)
		}
	}
	// nginx answers with Debian's default site.
	if got := fetchStatus(t, "http://127.0.0.1:"+strconv.Itoa(web)+"/"); !strings.Contains(got, "nginx") {
		t.Errorf("GET / = %q", got)
	}
	// sshd greets with its banner (its host keys made on first boot).
	if got := banner(t, ssh); !strings.HasPrefix(got, "SSH-2.0-OpenSSH") {
		t.Errorf("ssh banner %q", got)
	}
	// chronyd logs to syslog only: /dev/log puts its lines in its log.
	if logs := unit("logs", "chrony"); !regexp.MustCompile(`(?m)chronyd\[\d+\]: chronyd version`).MatchString(logs) {
		t.Errorf("unit logs chrony has no syslog line from chronyd:\n%s", logs)
	}
	// The users the packages declare exist with their ids: _chrony owns
	// chrony's state directory, haproxy /run/haproxy (tmpfiles.d).
	if got := unit("checks"); strings.Contains(got, "FAIL") || strings.Contains(got, "CRITICAL") {
		t.Errorf("checks:\n%s", got)
	}
}

// fetchStatus GETs url and returns its body, whatever the status (Debian's
// default site may answer 403 with nginx's page).
func fetchStatus(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: time.Minute}
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return string(b)
}

// banner reads the first line an SSH server sends.
func banner(t *testing.T, port int) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 30*time.Second)
	if err != nil {
		t.Fatalf("ssh port: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 256)
	n, _ := c.Read(buf)
	return strings.TrimSpace(string(buf[:n]))
}
