package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type arFile struct {
	name string
	data []byte
}

// archive writes an ar archive by hand, as dpkg-deb lays one out.
func archive(files ...arFile) []byte {
	var b bytes.Buffer
	b.WriteString(arMagic)
	for _, f := range files {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", f.name, 0, 0, 0, 0o100644, len(f.data))
		b.Write(f.data)
		if len(f.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func tarball(t *testing.T, hs ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hs {
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(h.Name))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func debOf(t *testing.T, control, data []byte) []byte {
	return archive(arFile{"debian-binary", []byte("2.0\n")}, arFile{"control.tar", control}, arFile{"data.tar", data})
}

func reg(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg} }

// extractIn writes deb beside an empty "dst" in a fresh directory and
// extracts it there; it returns the error and what the directory then
// holds outside dst.
func extractIn(t *testing.T, deb []byte) (error, []string) {
	t.Helper()
	top := t.TempDir()
	p := filepath.Join(t.TempDir(), "x.deb")
	if err := os.WriteFile(p, deb, 0o644); err != nil {
		t.Fatal(err)
	}
	pkg, err := Open(p)
	if err == nil {
		err = pkg.Extract(filepath.Join(top, "dst"))
		pkg.Close()
	}
	var outside []string
	filepath.Walk(top, func(q string, _ os.FileInfo, _ error) error {
		rel, _ := filepath.Rel(top, q)
		if rel != "." && rel != "dst" && !strings.HasPrefix(rel, "dst/") {
			outside = append(outside, rel)
		}
		return nil
	})
	return err, outside
}

func TestHostile(t *testing.T) {
	control := tarball(t, &tar.Header{Name: "./control", Typeflag: tar.TypeReg, Size: 9})
	for _, c := range []struct {
		name string
		deb  func() []byte
		want string
	}{
		{"dotdot", func() []byte { return debOf(t, control, tarball(t, reg("./../evil"))) }, `"./../evil": name leaves the destination`},
		{"dotdot-deep", func() []byte { return debOf(t, control, tarball(t, reg("./a/../../evil"))) }, "leaves the destination"},
		{"absolute", func() []byte { return debOf(t, control, tarball(t, reg("/evil"))) }, `"/evil": absolute name`},
		{"through-symlink", func() []byte {
			return debOf(t, control, tarball(t,
				&tar.Header{Name: "./up", Typeflag: tar.TypeSymlink, Linkname: ".."},
				reg("./up/evil")))
		}, `"./up/evil": path goes through up, which is not a directory`},
		{"through-abs-symlink", func() []byte {
			return debOf(t, control, tarball(t,
				&tar.Header{Name: "./d", Typeflag: tar.TypeDir, Mode: 0o755},
				&tar.Header{Name: "./d/tmp", Typeflag: tar.TypeSymlink, Linkname: os.TempDir()},
				reg("./d/tmp/evil")))
		}, "path goes through d/tmp"},
		{"through-file", func() []byte { return debOf(t, control, tarball(t, reg("./f"), reg("./f/g"))) }, "path goes through f"},
		{"twice", func() []byte {
			return debOf(t, control, tarball(t, reg("./f"), &tar.Header{Name: "./f", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}))
		}, `"./f": given twice`},
		{"hardlink-outside", func() []byte {
			return debOf(t, control, tarball(t, &tar.Header{Name: "./h", Typeflag: tar.TypeLink, Linkname: "../x"}))
		}, "leaves the destination"},
		{"hardlink-unknown", func() []byte {
			return debOf(t, control, tarball(t, &tar.Header{Name: "./h", Typeflag: tar.TypeLink, Linkname: "./etc/passwd"}))
		}, "not a file extracted before it"},
		{"device", func() []byte {
			return debOf(t, control, tarball(t, &tar.Header{Name: "./null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}))
		}, `"./null": device node or fifo`},
		{"fifo", func() []byte { return debOf(t, control, tarball(t, &tar.Header{Name: "./p", Typeflag: tar.TypeFifo})) }, "device node or fifo"},
		{"wrong-magic", func() []byte { return append([]byte("!<arch>X"), debOf(t, control, nil)[8:]...) }, "no ar magic"},
		{"not-deb", func() []byte { return archive(arFile{"control.tar", control}) }, "debian-binary is not the first member"},
		{"truncated-ar", func() []byte { d := debOf(t, control, tarball(t, reg("./a"))); return d[:len(d)-700] }, "truncated"},
		{"truncated-header", func() []byte { d := debOf(t, control, nil); return append(d, "data.tar  "...) }, "unexpected EOF"},
		{"truncated-tar", func() []byte {
			data := tarball(t, &tar.Header{Name: "./big", Typeflag: tar.TypeReg, Size: 4096})
			return debOf(t, control, data[:1024])
		}, "unexpected EOF"},
		{"bad-compression", func() []byte {
			return archive(arFile{"debian-binary", []byte("2.0\n")}, arFile{"control.tar", control}, arFile{"data.tar.lz4", nil})
		}, `compression ".lz4" not supported`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err, outside := extractIn(t, c.deb())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
			if len(outside) > 0 {
				t.Errorf("written outside dst: %v", outside)
			}
		})
	}
}

func TestControlTooLarge(t *testing.T) {
	control := tarball(t, &tar.Header{Name: "./control", Typeflag: tar.TypeReg, Size: 9},
		&tar.Header{Name: "./postinst", Typeflag: tar.TypeReg, Size: 2 << 20})
	p := filepath.Join(t.TempDir(), "x.deb")
	if err := os.WriteFile(p, debOf(t, control, tarball(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer pkg.Close()
	_, err = pkg.Control(1<<20, "control", "postinst")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "control member postinst: 2097152 bytes") {
		t.Errorf("got %v, want ErrTooLarge naming postinst and its size", err)
	}
	m, err := pkg.Control(1<<20, "control")
	if err != nil || len(m["control"]) != 9 {
		t.Errorf("control: %q, %v", m["control"], err)
	}
}
