package devlog

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in       string
		fac, sev int
		tag, pid string
		text     string
	}{
		// glibc syslog(3) as haproxy or unbound send it.
		{"<30>Dec  6 01:02:03 haproxy[123]: Proxy web started.", 3, 6, "haproxy", "123", "Proxy web started."},
		{"<27>Jan 16 10:00:00 unbound: [1:0] error: bad\n", 3, 3, "unbound", "", "[1:0] error: bad"},
		// logger(1) without a timestamp, and a tag with no pid.
		{"<13>me: hello", 1, 5, "me", "", "hello"},
		// No <PRI>: user.notice, the whole text kept.
		{"plain words here", 1, 5, "", "", "plain words here"},
		// A bad PRI is text, not a priority.
		{"<999>x: y", 1, 5, "", "", "<999>x: y"},
		// A colon later in the text is not a tag.
		{"<14>a sentence: with a colon", 1, 6, "", "", "a sentence: with a colon"},
		// RFC 5424.
		{"<165>1 2026-12-06T01:02:03Z host app 77 ID47 - an event", 20, 5, "app", "77", "an event"},
		{`<165>1 2026-12-06T01:02:03Z host app - - [ex@1 a="b"] sd text`, 20, 5, "app", "", "sd text"},
		// A non-numeric pid in brackets is not a tag.
		{"<14>prog[abc]: x", 1, 6, "", "", "prog[abc]: x"},
	} {
		m := Parse([]byte(c.in))
		if m.Facility != c.fac || m.Severity != c.sev || m.Tag != c.tag || m.TagPID != c.pid || m.Text != c.text {
			t.Errorf("Parse(%q) = fac %d sev %d tag %q pid %q text %q; want %d %d %q %q %q",
				c.in, m.Facility, m.Severity, m.Tag, m.TagPID, m.Text, c.fac, c.sev, c.tag, c.pid, c.text)
		}
	}
}

func TestSeverityName(t *testing.T) {
	if SeverityName(3) != "err" || SeverityName(7) != "debug" || SeverityName(9) != "9" {
		t.Errorf("names: %s %s %s", SeverityName(3), SeverityName(7), SeverityName(9))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"<30>Dec  6 01:02:03 haproxy[123]: x", "<165>1 - - - - - -", "<", "<1>", "a: b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Parse(b)
		if m.Severity < 0 || m.Severity > 7 || m.Facility < 0 || m.Facility > 23 {
			t.Fatalf("priority out of range: %+v", m)
		}
		if len(m.Text) > len(b) {
			t.Fatalf("text grew: %q from %q", m.Text, b)
		}
	})
}
