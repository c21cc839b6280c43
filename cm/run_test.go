package cm

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/event"
)

func TestAuditReportsDriftWithoutRepair(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(loadCfg(t, "[file.\""+p+"\"]\ncontent = \"desired\"\naudit = true\n"))
	time.Sleep(50 * time.Millisecond)
	if _, err := os.Stat(p); err == nil {
		t.Fatal("audit created the file")
	}
	waitFor(t, "drift event", func() bool { return rec.hasEvent("file:"+p, "drift") })
	rep := mustApply(t, e)
	if rep.Drifted != 1 || rep.Changed() != 0 || !strings.Contains(rep.String(), "drift (audit, not repaired): created") {
		t.Errorf("%s", rep)
	}
	// Global audit from [cm].
	q := filepath.Join(t.TempDir(), "g")
	os.WriteFile(q, []byte("theirs"), 0o644)
	rep = applyOnce(t, loadCfg(t, "[cm]\naudit = true\n[file.\""+q+"\"]\ncontent = \"ours\"\n"))
	if !hasContent(q, "theirs")() || rep.Drifted != 1 {
		t.Errorf("global audit repaired:\n%s", rep)
	}
}

// Someone rewriting a managed file in a loop: repairs back off and the
// fight is reported; when they stop, the file is restored.
func TestFightBacksOff(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	rec := &recorder{}
	var calls atomic.Int64
	e := start(t, WithEvents(rec.emit), countCalls(&calls))
	e.SetConfig(cfgOf(file(p, "desired", 0o644)))
	waitFor(t, "created", hasContent(p, "desired"))
	stop := time.Now().Add(1500 * time.Millisecond)
	writes := 0
	for time.Now().Before(stop) {
		os.WriteFile(p, []byte("intruder"), 0o644)
		writes++
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "fight event", func() bool { return rec.hasEvent("file:"+p, "fight") })
	repairs := 0
	rec.mu.Lock()
	for _, ev := range rec.events {
		if ev.Resource == "file:"+p && ev.State == "repaired" {
			repairs++
		}
	}
	rec.mu.Unlock()
	// Without backoff every write would be repaired (hundreds); with it,
	// a handful before the fight plus one per doubling backoff.
	if repairs > 20 {
		t.Errorf("%d repairs for %d writes: no backoff", repairs, writes)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !hasContent(p, "desired")() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !hasContent(p, "desired")() {
		t.Fatal("not restored after the fight ended")
	}
	rep := mustApply(t, e)
	if len(rep.Fights) != 1 || rep.Fights[0].Resource != "file:"+p {
		t.Errorf("fight not in report: %+v", rep.Fights)
	}
}

func TestReportsKeptAndConfigError(t *testing.T) {
	dir := t.TempDir()
	rdir := filepath.Join(dir, "reports")
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit), WithReports(rdir, 3))
	p := filepath.Join(dir, "f")
	for i, v := range []string{"a", "b", "c", "d", "e"} {
		e.SetConfig(cfgOf(file(p, v, 0o644)))
		waitFor(t, v, hasContent(p, v))
		waitFor(t, "report", func() bool {
			r, err := LatestReport(rdir)
			return err == nil && len(r.Changes) == 1 && len(r.Changes[0].Deltas) > 0 && (i == 0 || strings.Contains(r.Changes[0].Deltas[0].New, "1 bytes"))
		})
	}
	waitFor(t, "pruned to 3", func() bool { n, _ := listReports(rdir); return len(n) == 3 })
	r, _ := LatestReport(rdir)
	if r.Trigger != "config" || r.Changes[0].Result != "changed" || r.Changes[0].Resource != "file:"+p {
		t.Errorf("latest report trigger %q result %q resource %q", r.Trigger, r.Changes[0].Result, r.Changes[0].Resource)
	}
	e.ConfigError(os.ErrInvalid)
	waitFor(t, "config error event", func() bool { return rec.hasEvent("config", "error") })
	waitFor(t, "config error report", func() bool {
		r, err := LatestReport(rdir)
		return err == nil && r.ConfigError != ""
	})
}

func TestRemovedResourcePurgedOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	kept, purged := filepath.Join(dir, "kept"), filepath.Join(dir, "purged")
	e := start(t)
	e.SetConfig(loadCfg(t, "[file.\""+kept+"\"]\ncontent = \"k\"\n[file.\""+purged+"\"]\ncontent = \"p\"\npurge = true\n"))
	waitFor(t, "both", func() bool { return hasContent(kept, "k")() && hasContent(purged, "p")() })
	e.SetConfig(emptyCfg())
	waitFor(t, "purged", func() bool { _, err := os.Stat(purged); return os.IsNotExist(err) })
	if !hasContent(kept, "k")() {
		t.Error("a removed resource without purge was deleted")
	}
}

func TestDirPurgeWatchesEntries(t *testing.T) {
	d := filepath.Join(t.TempDir(), "d")
	rec := &recorder{}
	e := start(t, WithEvents(rec.emit))
	e.SetConfig(loadCfg(t, "[dir.\""+d+"\"]\npurge_unmanaged = true\n[file.\""+d+"/ok\"]\ncontent = \"x\"\n"))
	waitFor(t, "file", hasContent(filepath.Join(d, "ok"), "x"))
	os.WriteFile(filepath.Join(d, "intruder"), []byte("x"), 0o644)
	waitFor(t, "intruder purged", func() bool { _, err := os.Stat(filepath.Join(d, "intruder")); return os.IsNotExist(err) })
	if !hasContent(filepath.Join(d, "ok"), "x")() {
		t.Error("managed file purged")
	}
	_ = event.Event{}
}

func TestDirSourceWatched(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a"), []byte("1"), 0o644)
	e := start(t)
	e.SetConfig(loadCfg(t, "[dir.\""+dst+"\"]\nsource = \""+src+"\"\n"))
	waitFor(t, "mirrored", hasContent(filepath.Join(dst, "a"), "1"))
	os.WriteFile(filepath.Join(src, "a"), []byte("2"), 0o644)
	waitFor(t, "source edit followed", hasContent(filepath.Join(dst, "a"), "2"))
	os.Remove(filepath.Join(dst, "a"))
	waitFor(t, "deleted copy restored", hasContent(filepath.Join(dst, "a"), "2"))
}
