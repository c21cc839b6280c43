package qemutests

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/image"
)

// statusPage is the example plus the status page on port 8080, with its
// password file managed like any file, buttons allowed, a service that
// logs a line a second (for the live logs), and the network up (DHCP
// from qemu's user network, which forwards the host's port to it).
const statusPage = `
[net.eth0]
dhcp = true

[web]
listen  = "0.0.0.0:8080"
auth    = "/etc/unit/web.auth"
control = true

[file."/etc/unit/web.auth"]
content = "admin:correct horse battery\n"
mode    = "0600"

[service.ticker]
exec = ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]
`

// TestStatusPageInBrowser loads the status page of a booted guest in
// headless Chromium through a forwarded port: the services are listed, a
// log line appears live, the restart button restarts a service with the
// password and the page is refused without it; a screenshot is kept.
func TestStatusPageInBrowser(t *testing.T) {
	br := startBrowser(t)
	dir := buildImage(t, exampleWith(t, statusPage))
	mdir := t.TempDir()
	if err := api.EnsureMachineDir(mdir); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	vm := bootWith(t, dir, image.RunOptions{Forward: []string{fmt.Sprintf("%d:8080", port)}, Control: api.MachineSocket(mdir)})
	vm.Expect(`^unit: all \d+ services running`, 0, 3*time.Minute)
	unit := machineCLI(t, mdir, 60*time.Second)
	pidOf := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\s+running\s+(\d+)`).FindStringSubmatch(unit("status"))
		if m == nil {
			t.Fatalf("%s is not running", name)
		}
		return m[1]
	}
	before := pidOf("ticker")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:correct horse battery"))

	p := br.page(map[string]string{"Authorization": auth})
	br.navigate(p, url)
	var rows []string
	br.eval(p, `Array.from(document.querySelectorAll("#services tr[data-service]")).map(r => r.dataset.service)`, &rows)
	for _, want := range []string{"syslogd", "ticker", "unit-web", "web"} {
		if !contains(rows, want) {
			t.Errorf("services on the page: %q, want %s among them", rows, want)
		}
	}
	// A line the service prints after the page was loaded arrives by
	// itself (server-sent events).
	var n int
	br.eval(p, `(document.getElementById("logs").textContent.match(/tick (\d+)/g) || []).map(s => +s.split(" ")[1]).reduce((a, b) => Math.max(a, b), 0)`, &n)
	br.waitDOM(p, fmt.Sprintf(`(document.getElementById("logs").textContent.match(/tick (\d+)/g) || []).some(s => +s.split(" ")[1] > %d)`, n+1), 60000)
	br.waitDOM(p, `document.getElementById("events") !== null`, 1000)

	// The restart button, with the password the page was loaded with.
	br.eval(p, `document.querySelector('button[data-action="restart"][data-name="ticker"]').click(), true`, nil)
	br.waitDOM(p, `document.getElementById("result").textContent.startsWith("restart ticker: 200")`, 60000)
	// The table follows by itself: the restart's events bring the new
	// pid, once ticker runs again (the button answers when the restart
	// was done, which may be before the new process is up).
	row := `document.querySelector('#services tr[data-service="ticker"]').children`
	br.waitDOM(p, fmt.Sprintf(`%s[1].textContent === "running" && %s[2].textContent !== "" && %s[2].textContent !== %q`, row, row, row, before), 60000)
	var after string
	br.eval(p, row+`[2].textContent`, &after)
	if got := pidOf("ticker"); got != after {
		t.Errorf("the page shows ticker's pid %s after the restart, unit status %s", after, got)
	}
	br.waitDOM(p, `Array.from(document.querySelectorAll("#events li")).some(li => li.textContent.includes("service:ticker running"))`, 60000)
	art := filepath.Join(os.TempDir(), "unit-test-artifacts")
	if err := os.MkdirAll(art, 0o755); err == nil {
		shot := filepath.Join(art, "status-page.png")
		br.screenshot(p, shot)
		t.Logf("screenshot: %s", shot)
	}

	// Without the password: nothing but 401, in the browser and for a
	// button's request; with it but without X-Unit (a form of another
	// site), 403.
	q := br.page(nil)
	br.navigate(q, url)
	// (Headless Chromium answers a 401 with an empty page where a
	// browser would ask for the password.)
	var body string
	br.eval(q, `document.body ? document.body.innerText : ""`, &body)
	var tables int
	br.eval(q, `document.querySelectorAll("#services").length`, &tables)
	if tables != 0 || strings.Contains(body, "ticker") {
		t.Errorf("without the password the page shows %d service tables:\n%s", tables, body)
	}
	post := func(withAuth, withHeader bool) int {
		req, _ := http.NewRequest("POST", url+"api/restart?name=ticker", nil)
		if withAuth {
			req.Header.Set("Authorization", auth)
		}
		if withHeader {
			req.Header.Set("X-Unit", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(false, true); code != 401 {
		t.Errorf("restart without the password: %d", code)
	}
	if code := post(true, false); code != 403 {
		t.Errorf("restart without X-Unit: %d", code)
	}
	if m := regexp.MustCompile(`(?m)^unit-web\s.*$`).FindString(unit("status")); m != "" {
		t.Logf("the status page's service: %s", m)
	}
	unit("poweroff")
	if err := vm.Wait(60 * time.Second); err != nil {
		t.Fatalf("no power off: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
