package image

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"

	"github.com/klauspost/compress/zstd"
)

// baseEntries is the skeleton every image has: /init (the unit binary),
// /bin/unit pointing at it, the system description, the mount points and
// directories PID 1 expects, /dev/console (the kernel opens it for /init's
// stdio before devtmpfs is mounted) and a root-only user database.
func baseEntries(unitBin, systemTOML []byte) []entry {
	es := []entry{
		{Name: "init", Mode: 0o755, Data: unitBin},
		{Name: "bin/unit", Mode: fs.ModeSymlink | 0o777, Data: []byte("/init")},
		{Name: "etc/unit/system.toml", Mode: 0o644, Data: systemTOML},
		{Name: "dev/console", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600, Major: 5, Minor: 1},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{Name: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\n")},
		{Name: "etc/hosts", Mode: 0o644, Data: []byte("127.0.0.1\tlocalhost\n::1\tlocalhost\n")},
		{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Name: "root", Mode: fs.ModeDir | 0o700},
	}
	for _, d := range []string{"proc", "sys", "dev", "run", "var", "etc", "srv", "mnt"} {
		es = append(es, entry{Name: d, Mode: fs.ModeDir | 0o755})
	}
	return es
}

// takenPaths are the paths of entries, so busybox applets can stay clear of them.
func takenPaths(es []entry) map[string]bool {
	m := map[string]bool{}
	for _, e := range es {
		m[e.Name] = true
	}
	return m
}

// newZstd returns the one encoder configuration used for initramfs images.
// Fixed options make the output reproducible: one goroutine, a fixed level,
// and a window the kernel's streaming decompressor can allocate at boot.
func newZstd(w io.Writer) (*zstd.Encoder, error) {
	return zstd.NewWriter(w,
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(8<<20),
		zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderCRC(true),
	)
}

// packInitramfs returns the compressed newc archive of entries.
func packInitramfs(entries []entry, mtime int64) ([]byte, error) {
	var out bytes.Buffer
	zw, err := newZstd(&out)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	if err := writeCPIO(zw, entries, mtime); err != nil {
		zw.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return out.Bytes(), nil
}
