package web

import (
	"context"
	"fmt"
	"html"
	"net"
	"os"
	"strings"
)

// page renders the status page on the server (the table is there without
// scripts); app.js adds live logs, live events and the buttons.
func page(ctx context.Context, c net.Conn, cfg Config) {
	rep, err := status(ctx, cfg.Socket)
	var b strings.Builder
	e := html.EscapeString
	host := "unit"
	if h, herr := os.Hostname(); herr == nil {
		host = h
	}
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>%s: unit</title>"+
		"<link rel=stylesheet href=/app.css><script src=/app.js defer></script></head>\n<body data-control=%t>\n", e(host), cfg.Control)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", e(host))
	if err != nil {
		fmt.Fprintf(&b, "<p class=error id=error>the daemon does not answer: %s</p>\n", e(err.Error()))
	} else {
		if rep.Release != "" {
			fmt.Fprintf(&b, "<p id=release>release <code>%s</code>", e(rep.Release))
			for _, sl := range rep.Slots {
				if sl.Running {
					fmt.Fprintf(&b, " (slot %s, generation %d, %s)", e(sl.Slot), sl.Gen, e(sl.State))
				}
			}
			b.WriteString("</p>\n")
		}
		if rep.ConfigError != "" {
			fmt.Fprintf(&b, "<pre class=error id=config-error>config error (the last good config keeps running):\n%s</pre>\n", e(rep.ConfigError))
		}
		b.WriteString("<table id=services><thead><tr><th>service</th><th>state</th><th>pid</th><th>uptime</th><th>restarts</th><th>last exit</th><th>memory</th><th>health</th><th>reason</th>")
		if cfg.Control {
			b.WriteString("<th></th>")
		}
		b.WriteString("</tr></thead><tbody>\n")
		for _, s := range rep.Services {
			mem := ""
			if s.Memory > 0 {
				mem = fmt.Sprintf("%.1fM", float64(s.Memory)/(1<<20))
			}
			pid := ""
			if s.PID > 0 {
				pid = fmt.Sprint(s.PID)
			}
			fmt.Fprintf(&b, "<tr data-service=\"%s\"><td>%s</td><td class=\"state %s\">%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>",
				e(s.Name), e(s.Name), e(s.State), e(s.State), pid, e(s.Uptime), s.Restarts, e(s.LastExit), mem, e(s.Health), e(s.Reason))
			if cfg.Control {
				b.WriteString("<td>")
				for _, a := range []string{"restart", "stop", "start"} {
					fmt.Fprintf(&b, "<button data-action=%s data-name=\"%s\">%s</button>", a, e(s.Name), a)
				}
				b.WriteString("</td>")
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</tbody></table>\n<p id=result></p>\n")
		if len(rep.Failed) > 0 {
			b.WriteString("<h2>Failed resources</h2><ul id=failed>")
			for _, f := range rep.Failed {
				fmt.Fprintf(&b, "<li><code>%s</code>: %s</li>", e(f.Resource), e(f.Error))
			}
			b.WriteString("</ul>\n")
		}
		b.WriteString("<h2>Logs</h2><p><select id=logname><option value=\"\">every service</option>")
		for _, s := range rep.Services {
			fmt.Fprintf(&b, "<option>%s</option>", e(s.Name))
		}
		b.WriteString("</select></p><pre id=logs></pre>\n")
	}
	b.WriteString("<h2>Events</h2><ul id=events></ul>\n")
	reports := keptReports(cfg.Reports)
	if lines := drift(reports); len(lines) > 0 {
		b.WriteString("<h2>Drift (the kept reports)</h2><ul id=drift>")
		for _, d := range lines {
			fmt.Fprintf(&b, "<li>%s</li>", e(d))
		}
		b.WriteString("</ul>\n")
	}
	if len(reports) > 0 {
		r := reports[0]
		fmt.Fprintf(&b, "<h2>Last convergence</h2><pre id=report>%s (trigger: %s)\n%s</pre>\n",
			e(r.Time.Format("2006-01-02 15:04:05 MST")), e(r.Trigger), e(r.String()))
	}
	b.WriteString("</body></html>\n")
	respond(c, 200, "text/html; charset=utf-8", []byte(b.String()))
}

// appJS follows the logs and events (server-sent events) and sends the
// buttons' requests. No inline script: the page's CSP allows none.
const appJS = `"use strict";
(function () {
  const logs = document.getElementById("logs");
  const sel = document.getElementById("logname");
  let src = null;
  function follow() {
    if (!logs) return;
    if (src) src.close();
    logs.textContent = "";
    const name = sel ? sel.value : "";
    src = new EventSource("/api/logs" + (name ? "?name=" + encodeURIComponent(name) : ""));
    src.onmessage = function (m) {
      logs.textContent += m.data + "\n";
      const lines = logs.textContent.split("\n");
      if (lines.length > 500) logs.textContent = lines.slice(-500).join("\n");
    };
  }
  if (sel) sel.addEventListener("change", follow);
  follow();
  const events = document.getElementById("events");
  // The table follows the machine: every event asks for the status again
  // (one request at a time; events during it are folded into the next).
  let asking = false, again = false;
  function refresh() {
    if (asking) { again = true; return; }
    asking = true;
    fetch("/api/status").then(function (r) { return r.json(); }).then(function (st) {
      (st.services || []).forEach(function (s) {
        const row = document.querySelector('#services tr[data-service="' + CSS.escape(s.name) + '"]');
        if (!row) return;
        const c = row.children;
        c[1].textContent = s.state; c[1].className = "state " + s.state;
        c[2].textContent = s.pid || ""; c[3].textContent = s.uptime || "";
        c[4].textContent = s.restarts; c[5].textContent = s.last_exit || "";
        c[6].textContent = s.memory_bytes ? (s.memory_bytes / 1048576).toFixed(1) + "M" : "";
        c[7].textContent = s.health || ""; c[8].textContent = s.reason || "";
      });
    }).catch(function () {}).finally(function () {
      asking = false;
      if (again) { again = false; refresh(); }
    });
  }
  const ev = new EventSource("/api/events");
  ev.onmessage = function (m) {
    const li = document.createElement("li");
    li.textContent = m.data;
    events.insertBefore(li, events.firstChild);
    while (events.children.length > 200) events.removeChild(events.lastChild);
    refresh();
  };
  const result = document.getElementById("result");
  document.querySelectorAll("button[data-action]").forEach(function (b) {
    b.addEventListener("click", function () {
      const what = b.dataset.action + " " + b.dataset.name;
      result.textContent = what + ": ...";
      fetch("/api/" + b.dataset.action + "?name=" + encodeURIComponent(b.dataset.name), {method: "POST", headers: {"X-Unit": "1"}})
        .then(function (r) { return r.text().then(function (t) { result.textContent = what + ": " + r.status + " " + t.trim(); }); })
        .catch(function (e) { result.textContent = what + ": " + e; });
    });
  });
})();
`

const appCSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; }
.state.running, .state.exited { color: #060; }
.state.failed, .error { color: #a00; }
.state.starting, .state.backoff, .state.waiting { color: #a60; }
pre { background: #f6f6f6; padding: 0.6em; max-height: 24em; overflow: auto; }
button { margin-right: 0.3em; }
`
