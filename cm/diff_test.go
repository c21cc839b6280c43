package cm

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUnifiedDiffHunks(t *testing.T) {
	var a, b []string
	for i := range 20 {
		a = append(a, "l"+string(rune('a'+i)))
	}
	b = append(b, a...)
	b[1] = "CHANGED"
	b = append(b[:15], b[16:]...) // drop "lp"
	old := strings.Join(a, "\n") + "\n"
	nw := strings.Join(b, "\n") + "\n"
	got := unifiedDiff("/etc/x", []byte(old), []byte(nw))
	want := "--- a/etc/x\n+++ b/etc/x\n" +
		"@@ -1,5 +1,5 @@\n la\n-lb\n+CHANGED\n lc\n ld\n le\n" +
		"@@ -13,7 +13,6 @@\n lm\n ln\n lo\n-lp\n lq\n lr\n ls\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if d := unifiedDiff("/b", []byte("a\x00b"), []byte("c")); !strings.Contains(d, "Binary content differs (3 -> 1 bytes)") {
		t.Errorf("binary: %s", d)
	}
	if d := unifiedDiff("/n", nil, []byte("x\n")); d != "--- /dev/null\n+++ b/n\n@@ -0,0 +1,1 @@\n+x\n" {
		t.Errorf("new file: %q", d)
	}
}

func TestReportJSONCarriesOldAndNew(t *testing.T) {
	rep := &Report{Trigger: "drift", Changes: []Change{{Resource: "file:/x", Result: "repaired",
		Deltas: []Delta{delta("mode", "0600", "0644")}, What: []string{"mode 0600 -> 0644"}}}}
	b, _ := json.Marshal(rep)
	for _, want := range []string{`"attr":"mode"`, `"old":"0600"`, `"new":"0644"`, `"result":"repaired"`, `"trigger":"drift"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

func TestFactsGathered(t *testing.T) {
	f := GatherFacts(nil, StateDir)
	if f.CPUs < 1 || f.Kernel == "" || f.Hostname == "" || f.Memory == 0 || len(f.Addresses["lo"]) == 0 {
		t.Errorf("facts: %+v", f)
	}
	if s := f.String(); !strings.Contains(s, "addresses.lo: 127.0.0.1/8") {
		t.Errorf("facts:\n%s", s)
	}
}
