package cm

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

func TestApplyOnceCreatesThenLeavesAlone(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "dir", "x") // parents missing
	cfg := cfgOf(file(p, "hello\n", 0o600))
	ctx := context.Background()

	rep, err := ApplyOnce(ctx, cfg, false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() != 1 || rep.Failed != 0 || !slices.Equal(rep.Changes[0].What, []string{"created"}) {
		t.Fatalf("first report:\n%s", rep)
	}
	if !hasContent(p, "hello\n")() || !hasMode(p, 0o600)() {
		t.Fatal("content or mode wrong")
	}
	if !hasMode(filepath.Dir(p), 0o755)() {
		t.Error("parent dir not 0755")
	}
	before := stat(t, p)

	rep, err = ApplyOnce(ctx, cfg, false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed() != 0 || rep.Unchanged != 1 {
		t.Fatalf("second report:\n%s", rep)
	}
	after := stat(t, p)
	// ctime covers chmod/chown too: nothing at all was done to the file.
	if after.Ino != before.Ino || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		t.Error("unchanged file was touched")
	}
	if left := tempFiles(t, filepath.Dir(p)); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestApplyOnceDryRun(t *testing.T) {
	dir := t.TempDir()
	changed := filepath.Join(dir, "changed")
	missing := filepath.Join(dir, "missing")
	gone := filepath.Join(dir, "gone")
	os.WriteFile(changed, []byte("old"), 0o600)
	os.WriteFile(gone, []byte("x"), 0o644)
	cfg := cfgOf(
		file(changed, "new content", 0o644, "service:web"),
		file(missing, "m", 0o644),
		absent(gone),
	)
	before := stat(t, changed)
	rep, err := ApplyOnce(context.Background(), cfg, true, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	out := rep.String()
	for _, want := range []string{
		"file:" + changed + ": content 3 bytes sha256:",
		"-old\n\\ No newline at end of file\n+new content\n\\ No newline at end of file\n",
		"file:" + changed + ": mode 0600 -> 0644\n",
		"file:" + missing + ": created\n",
		"file:" + gone + ": removed\n",
		"service:web: restart (notified by file:" + changed + ")\n",
		"4 to change (dry run), 0 unchanged, 0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	after := stat(t, changed)
	if after.Mtim != before.Mtim || after.Ctim != before.Ctim || !hasContent(changed, "old")() {
		t.Error("dry run changed a file")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("dry run created a file")
	}
	if _, err := os.Stat(gone); err != nil {
		t.Error("dry run removed a file")
	}
}

// A mode-only drift is fixed in place: same inode, same mtime, same bytes.
func TestApplyOnceAttributesInPlace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("same"), 0o600)
	before := stat(t, p)
	f := file(p, "same", 0o644)
	if os.Geteuid() == 0 {
		f.Owner, f.Group = "4242", "4343"
	}
	rep, err := ApplyOnce(context.Background(), cfgOf(f), false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mode 0600 -> 0644"}
	if os.Geteuid() == 0 {
		want = append(want, "owner 0 -> 4242", "group 0 -> 4343")
	}
	if rep.Changed() != 1 || !slices.Equal(rep.Changes[0].What, want) {
		t.Fatalf("report:\n%s", rep)
	}
	after := stat(t, p)
	if after.Ino != before.Ino || after.Mtim != before.Mtim {
		t.Error("file rewritten for an attribute change")
	}
	if !hasMode(p, 0o644)() {
		t.Error("mode not fixed")
	}
	if os.Geteuid() == 0 && (after.Uid != 4242 || after.Gid != 4343) {
		t.Errorf("owner %d:%d", after.Uid, after.Gid)
	}
}

func TestApplyOnceFailureDoesNotStopOthers(t *testing.T) {
	dir := t.TempDir()
	isDir := filepath.Join(dir, "adir")
	os.Mkdir(isDir, 0o755)
	ok := filepath.Join(dir, "ok")
	src := &config.File{Meta: config.Meta{Name: filepath.Join(dir, "fromsrc")}, Source: filepath.Join(dir, "nosuch"), FileMode: 0o644, Ensure: "present"}
	rep, err := ApplyOnce(context.Background(), cfgOf(file(isDir, "x", 0o644), file(ok, "ok", 0o644), src), false, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 2 || rep.Changed() != 1 || !hasContent(ok, "ok")() {
		t.Fatalf("report:\n%s", rep)
	}
	if !strings.Contains(rep.String(), "file:"+isDir+": failed: "+isDir+" is a directory") {
		t.Errorf("report:\n%s", rep)
	}
}

func TestApplyOnceSourceAndAbsent(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte("from source"), 0o600)
	dst := filepath.Join(dir, "dst")
	gone := filepath.Join(dir, "gone")
	os.WriteFile(gone, []byte("x"), 0o644)
	f := &config.File{Meta: config.Meta{Name: dst}, Source: src, FileMode: 0o640, Ensure: "present"}
	rep, err := ApplyOnce(context.Background(), cfgOf(f, absent(gone)), false, quietLog())
	if err != nil || rep.Changed() != 2 {
		t.Fatalf("%v\n%s", err, rep)
	}
	if !hasContent(dst, "from source")() || !hasMode(dst, 0o640)() {
		t.Error("dst wrong")
	}
	if _, err := os.Lstat(gone); !os.IsNotExist(err) {
		t.Error("absent file still there")
	}
}

func TestReportStringAndJSON(t *testing.T) {
	rep := &Report{
		Changes: []Change{
			{Resource: "file:/etc/x", What: []string{"content changed (12 -> 20 bytes)", "mode 0600 -> 0644"}},
			{Resource: "file:/etc/y", Result: "failed", Err: "boom"},
		},
		Unchanged: 3, Failed: 1,
	}
	want := "file:/etc/x: content changed (12 -> 20 bytes)\n" +
		"file:/etc/x: mode 0600 -> 0644\n" +
		"file:/etc/y: failed: boom\n" +
		"1 changed, 3 unchanged, 1 failed in 0s\n"
	if got := rep.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.String() != want {
		t.Errorf("JSON round trip: %s -> %v", b, err)
	}
}

func TestFindID(t *testing.T) {
	db := "# comment\nroot:x:0:0:root:/root:/bin/sh\nwww:x:1000:1000::/var/www:/bin/false\nbad:x:nope:0::/:/\n"
	if id, err := findID(strings.NewReader(db), "www"); err != nil || id != 1000 {
		t.Errorf("www = %d, %v", id, err)
	}
	if _, err := findID(strings.NewReader(db), "ghost"); err == nil {
		t.Error("ghost found")
	}
	if _, err := findID(strings.NewReader(db), "bad"); err == nil {
		t.Error("bad id accepted")
	}
	if id, err := defaultEnv().lookupUID("123"); err != nil || id != 123 {
		t.Errorf("numeric = %d, %v", id, err)
	}
	if id, err := defaultEnv().lookupUID(""); err != nil || id != -1 {
		t.Errorf("empty = %d, %v", id, err)
	}
	if id, err := defaultEnv().lookupUID("root"); err != nil || id != 0 {
		t.Errorf("root = %d, %v", id, err)
	}
}
