package image

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func sampleEntries() []entry {
	return []entry{
		{Name: "/init", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
		{Name: "bin/unit", Mode: fs.ModeSymlink | 0o777, Data: []byte("/init")},
		{Name: "dev/console", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600, Major: 5, Minor: 1},
		{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Name: "etc/unit/system.toml", Mode: 0o644, Data: []byte("[system]\nhostname = \"x\"\n")},
		{Name: "etc/a", Mode: 0o640, Data: []byte("12345")},
	}
}

// cpioRecord is one parsed newc header.
type cpioRecord struct {
	name                   string
	ino, mode, nlink, size uint64
	uid, gid, mtime        uint64
	rmajor, rminor         uint64
	data                   []byte
}

// readNewc is a strict test-side reader: it checks magic and padding.
func readNewc(t *testing.T, b []byte) []cpioRecord {
	t.Helper()
	var out []cpioRecord
	off := 0
	for {
		if off%4 != 0 || off+110 > len(b) || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		field := func(i int) uint64 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		r := cpioRecord{ino: field(0), mode: field(1), uid: field(2), gid: field(3), nlink: field(4),
			mtime: field(5), size: field(6), rmajor: field(9), rminor: field(10)}
		namesize := int(field(11))
		r.name = string(b[off+110 : off+110+namesize-1])
		off += 110 + namesize
		off += pad4(off)
		r.data = b[off : off+int(r.size)]
		off += int(r.size)
		off += pad4(off)
		if r.name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after trailer", len(b)-off)
			}
			return out
		}
		out = append(out, r)
	}
}

func TestCPIOFields(t *testing.T) {
	var buf bytes.Buffer
	if err := writeCPIO(&buf, sampleEntries(), 1234); err != nil {
		t.Fatal(err)
	}
	recs := readNewc(t, buf.Bytes())
	var names []string
	got := map[string]cpioRecord{}
	for i, r := range recs {
		names = append(names, r.name)
		got[r.name] = r
		if r.ino != uint64(i+1) || r.uid != 0 || r.gid != 0 || r.mtime != 1234 {
			t.Errorf("%s: ino %d uid %d gid %d mtime %d", r.name, r.ino, r.uid, r.gid, r.mtime)
		}
	}
	want := "bin bin/unit dev dev/console etc etc/a etc/unit etc/unit/system.toml init tmp"
	if s := strings.Join(names, " "); s != want {
		t.Fatalf("order:\n got %s\nwant %s", s, want)
	}
	checks := []struct {
		name         string
		mode, nlink  uint64
		data         string
		major, minor uint64
	}{
		{"init", 0o100755, 1, "#!/bin/sh\n", 0, 0},
		{"bin", 0o040755, 2, "", 0, 0},
		{"bin/unit", 0o120777, 1, "/init", 0, 0},
		{"dev/console", 0o020600, 1, "", 5, 1},
		{"tmp", 0o041777, 2, "", 0, 0},
		{"etc", 0o040755, 3, "", 0, 0}, // one subdirectory: etc/unit
		{"etc/a", 0o100640, 1, "12345", 0, 0},
	}
	for _, c := range checks {
		r := got[c.name]
		if r.mode != c.mode || r.nlink != c.nlink || string(r.data) != c.data || r.rmajor != c.major || r.rminor != c.minor {
			t.Errorf("%s: mode %o nlink %d data %q dev %d,%d; want %o %d %q %d,%d",
				c.name, r.mode, r.nlink, r.data, r.rmajor, r.rminor, c.mode, c.nlink, c.data, c.major, c.minor)
		}
	}
}

func TestCPIODeterministic(t *testing.T) {
	es := sampleEntries()
	var a, b bytes.Buffer
	if err := writeCPIO(&a, es, 0); err != nil {
		t.Fatal(err)
	}
	rev := make([]entry, len(es))
	for i := range es {
		rev[len(es)-1-i] = es[i]
	}
	if err := writeCPIO(&b, rev, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("entry order changed the archive")
	}
}

func TestCPIOErrors(t *testing.T) {
	for name, es := range map[string][]entry{
		"duplicate":      {{Name: "a", Mode: 0o644}, {Name: "/a", Mode: 0o644}},
		"file parent":    {{Name: "a", Mode: 0o644}, {Name: "a/b", Mode: 0o644}},
		"data on device": {{Name: "c", Mode: fs.ModeDevice | fs.ModeCharDevice, Data: []byte("x")}},
		"pipe":           {{Name: "p", Mode: fs.ModeNamedPipe}},
	} {
		if err := writeCPIO(&bytes.Buffer{}, es, 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestCPIOWithGNUCpio checks the archive against an independent reader.
func TestCPIOWithGNUCpio(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	var buf bytes.Buffer
	if err := writeCPIO(&buf, sampleEntries(), 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = &buf
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itv: %v\n%s", err, out)
	}
	listing := string(out)
	for _, want := range []string{
		"-rwxr-xr-x   1 root     root           10 Jan  1  1970 init",
		"lrwxrwxrwx   1 root     root            5 Jan  1  1970 bin/unit -> /init",
		"crw-------   1 root     root       5,   1 Jan  1  1970 dev/console",
		"drwxrwxrwt   2 root     root            0 Jan  1  1970 tmp",
	} {
		if !strings.Contains(listing, want) {
			t.Errorf("cpio -itv lacks %q:\n%s", want, listing)
		}
	}
}
