package cm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/unit-os/unit/config"
)

// A large pass stages its writes (one syncfs, then renames); a file that
// something in the same pass depends on is written in place first. Modes:
// created as is (0640), chmod for setuid (4755) and past the umask (0666).
func TestStagedWritesLandAndDependentsSeeTheirFile(t *testing.T) {
	root := t.TempDir()
	src := ""
	for i := range stageMin + 10 {
		src += fmt.Sprintf("[file.\"%s/d%d/f%03d\"]\ncontent = \"c%d\"\nmode = \"%s\"\n", root, i%3, i, i, []string{"0640", "4755", "0666"}[i%3])
	}
	dep := filepath.Join(root, "d0", "f000")
	src += "[exec.check]\ncommand = [\"/bin/sh\", \"-c\", \"test \\\"$(cat " + dep + ")\\\" = c0 && touch " + root + "/ok\"]\n" +
		"creates = \"" + root + "/ok\"\nrequires = [\"file:" + dep + "\"]\n"
	rep := applyOnce(t, loadCfg(t, src))
	if rep.Failed != 0 || rep.Changed() != stageMin+11 {
		t.Fatalf("%s", rep)
	}
	for i := range stageMin + 10 {
		p := fmt.Sprintf("%s/d%d/f%03d", root, i%3, i)
		if !hasContent(p, fmt.Sprintf("c%d", i))() || !hasMode(p, []uint32{0o640, 0o4755, 0o666}[i%3])() {
			t.Fatalf("%s wrong", p)
		}
	}
	for d := range 3 {
		if left := tempFiles(t, filepath.Join(root, fmt.Sprint("d", d))); len(left) > 0 {
			t.Errorf("temp files left: %v", left)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "ok")); err != nil {
		t.Error("the exec that requires a file did not see it in place")
	}
	mustNoop(t, loadCfg(t, src))
}

// inParallel visits every entry once and hands a worker's panic back to
// the caller (where PID 1's recover is) instead of crashing the process.
func TestInParallel(t *testing.T) {
	m := map[string]int{}
	for i := range 50 {
		m[fmt.Sprint(i)] = i
	}
	var mu sync.Mutex
	seen := map[string]int{}
	inParallel(4, m, func(k string, v int) {
		mu.Lock()
		seen[k] += v + 1
		mu.Unlock()
	})
	for k, v := range m {
		if seen[k] != v+1 {
			t.Fatalf("%s visited %d times", k, seen[k])
		}
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "boom 7") {
			t.Fatalf("recovered %v, want the worker's panic", p)
		}
	}()
	inParallel(4, m, func(k string, v int) {
		if v == 7 {
			panic("boom 7")
		}
	})
}

func TestInterleaveDirs(t *testing.T) {
	p := &plan{res: map[string]Resource{}}
	var ids []string
	for _, path := range []string{"/a/1", "/a/2", "/a/3", "/b/1", "/c/1", "/c/2"} {
		r := newFile(file(path, "x", 0o644), &builder{cfg: &config.Config{}, env: defaultEnv()})
		p.res[r.ID()] = r
		ids = append(ids, r.ID())
	}
	p.res["exec:e"] = &execRes{}
	ids = append(ids, "exec:e")
	got := strings.Join(interleaveDirs(p, ids), " ")
	want := "file:/a/1 file:/b/1 file:/c/1 exec:e file:/a/2 file:/c/2 file:/a/3"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
