package image

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDiskMemo: a warm disk build with nothing changed writes none of
// DIR's files (their change times stay), and gives the same manifest; a
// disk a guest wrote to since is made again (re-imaged).
func TestDiskMemo(t *testing.T) {
	tmp, system, initBin, log := diskBuildSetup(t, "[system]\nhostname = \"memo\"\ndata = { size = \"32M\" }\n")
	out := filepath.Join(tmp, "out")
	build := func() *Result {
		t.Helper()
		res, err := Build(context.Background(), Options{System: system, Out: out, Init: initBin, CacheDir: testCache(), Format: FormatDisk, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ctimes := func() map[string]string {
		m := map[string]string{}
		for _, n := range []string{DiskName, UKIName, RootName, InitramfsName, ManifestName} {
			fi, err := os.Lstat(filepath.Join(out, n))
			if err != nil {
				t.Fatal(err)
			}
			m[n] = stamp(fi)
		}
		return m
	}
	build()
	manifest1, _ := os.ReadFile(filepath.Join(out, ManifestName))
	before := ctimes()
	res := build()
	after := ctimes()
	for n, st := range before {
		if after[n] != st {
			t.Errorf("%s was written again by a build with nothing changed", n)
		}
	}
	if manifest2, _ := os.ReadFile(filepath.Join(out, ManifestName)); string(manifest1) != string(manifest2) {
		t.Error("the memoized build's manifest differs")
	}
	if res.Disk == nil || len(res.Disk.Slots) != 2 {
		t.Fatalf("memoized disk section: %+v", res.Disk)
	}
	// The machine wrote to its disk: the next build re-images it.
	f, err := os.OpenFile(filepath.Join(out, DiskName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("written by the machine"), int64(res.Disk.ESPSize)+2*mib)
	f.Close()
	if res := build(); !res.Disk.Reimaged {
		t.Error("a disk written since the last build was not made again")
	}
}
