package image

import (
	"fmt"
	"strconv"

	"github.com/unit-os/unit/config"
)

// compression is how hard an image is packed. Every part's memo key and
// the manifest name it: the same inputs at another level are other bytes.
type compression struct {
	Name  string // config.CompressionFast or config.CompressionRelease
	Level int    // zstd's level, for the initramfs and the squashfs root
}

// fastLevel packs a development image: on the web example's 98 MB of
// packages zstd -3 takes 1.6 s (on 2 busy cores) for 38 MB; -19 takes
// minutes for 30 MB.
const fastLevel = 3

// releaseLevel is the strongest level whose window (8 MiB) the kernel's
// unzstd allocates at boot.
const releaseLevel = 19

// compressionOf picks the level: a release build (--release) or
// [system] compression = "release" packs at the strongest, else fast.
func compressionOf(release bool, sys string) compression {
	if release || sys == config.CompressionRelease {
		return compression{Name: config.CompressionRelease, Level: releaseLevel}
	}
	return compression{Name: config.CompressionFast, Level: fastLevel}
}

// zstdArgs compress an initramfs archive from stdin: the level, 4 MiB
// jobs on all cores. zstd's multi-threaded mode gives the same bytes for
// any number of threads, and without a file the frame never records the
// input size, so the output depends only on the input, the level and the
// zstd version (all in the memo key and the manifest).
func (c compression) zstdArgs() []string {
	return []string{"-q", "-c", "-" + strconv.Itoa(c.Level), "-T0", "-B4MiB", "-"}
}

// squashfsArgs are mksquashfs's compressor options (it compresses on all
// processors, with the same bytes for any number).
func (c compression) squashfsArgs() []string {
	return []string{"-comp", "zstd", "-Xcompression-level", strconv.Itoa(c.Level)}
}

func (c compression) String() string { return fmt.Sprintf("%s (zstd -%d)", c.Name, c.Level) }
