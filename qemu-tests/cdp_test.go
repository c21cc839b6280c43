package qemutests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// browser is headless Chromium driven over the DevTools protocol: one
// websocket to the browser, pages attached as flat sessions.
type browser struct {
	t      *testing.T
	ws     *websocket.Conn
	mu     sync.Mutex
	nextID int
	wait   map[int]chan cdpMessage
	events chan cdpMessage
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts Debian's chromium headless, or skips without it.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed")
	}
	cmd := exec.Command(bin, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir="+t.TempDir(), "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its own process group: the browser's helpers (renderers, crashpad)
	// go with it before its profile directory is removed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for i := 0; i < 100 && syscall.Kill(-cmd.Process.Pid, 0) == nil; i++ {
			time.Sleep(20 * time.Millisecond) // the group's last members exiting
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		rx := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		for sc.Scan() {
			if m := rx.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("chromium did not start its DevTools endpoint")
	}
	ws, err := websocket.Dial(url, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatalf("devtools: %v", err)
	}
	ws.MaxPayloadBytes = 64 << 20
	b := &browser{t: t, ws: ws, wait: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 1024)}
	go b.read()
	t.Cleanup(func() { ws.Close() })
	return b
}

func (b *browser) read() {
	for {
		var m cdpMessage
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			return
		}
		if m.ID == 0 {
			select {
			case b.events <- m:
			default:
			}
			continue
		}
		b.mu.Lock()
		ch := b.wait[m.ID]
		delete(b.wait, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends a command (to a page when session is set) and returns its
// result.
func (b *browser) call(session, method string, params any, result any) {
	b.t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.wait[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	if err := websocket.JSON.Send(b.ws, msg); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			b.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				b.t.Fatalf("%s: %v", method, err)
			}
		}
	case <-time.After(2 * time.Minute):
		b.t.Fatalf("%s: no answer", method)
	}
}

// page opens a new tab and returns its session; headers go with every
// request it makes (the page's own fetches and event streams included).
func (b *browser) page(headers map[string]string) string {
	b.t.Helper()
	var target struct{ TargetID string }
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.call(att.SessionID, "Network.enable", map[string]any{}, nil)
	if headers != nil {
		b.call(att.SessionID, "Network.setExtraHTTPHeaders", map[string]any{"headers": headers}, nil)
	}
	b.call(att.SessionID, "Page.enable", map[string]any{}, nil)
	return att.SessionID
}

// navigate loads url in the page and waits for its load event.
func (b *browser) navigate(session, url string) {
	b.t.Helper()
	b.call(session, "Page.navigate", map[string]any{"url": url}, nil)
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case m := <-b.events:
			if m.SessionID == session && m.Method == "Page.loadEventFired" {
				return
			}
		case <-deadline:
			b.t.Fatalf("%s did not load", url)
		}
	}
}

// eval evaluates a JavaScript expression in the page (awaiting a
// promise) and decodes its value into out.
func (b *browser) eval(session, expr string, out any) {
	b.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
				Value       any    `json:"value"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	b.call(session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("%s: %s %s %v", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description, r.ExceptionDetails.Exception.Value)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			b.t.Fatalf("%s: %v (%s)", expr, err, r.Result.Value)
		}
	}
}

// waitDOM waits, in the page, until cond (a JavaScript expression) is
// true: a MutationObserver looks again at every change of the document,
// so nothing polls; it fails after ms milliseconds.
func (b *browser) waitDOM(session, cond string, ms int) {
	b.t.Helper()
	b.eval(session, fmt.Sprintf(`new Promise((resolve, reject) => {
  const ok = () => { try { return !!(%s); } catch (e) { return false; } };
  if (ok()) { resolve(true); return; }
  const o = new MutationObserver(() => { if (ok()) { o.disconnect(); resolve(true); } });
  o.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
  setTimeout(() => { o.disconnect(); reject(new Error("timed out waiting for: " + %q + "; body: " + document.body.innerText.slice(0, 2000))); }, %d);
})`, cond, cond, ms), nil)
}

// screenshot writes the page as a PNG.
func (b *browser) screenshot(session, path string) {
	b.t.Helper()
	var r struct {
		Data []byte `json:"data"`
	}
	b.call(session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r)
	if err := os.WriteFile(path, r.Data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
