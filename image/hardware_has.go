package image

import (
	"bufio"
	"bytes"
	"path"
	"strings"

	"github.com/unit-os/unit/kmod"
)

// kernelHas says whether a module name appears in modules.dep or
// modules.builtin (as a path like kernel/drivers/ata/ahci.ko[.xz]).
func kernelHas(dep, builtin []byte, name string) bool {
	for _, text := range [][]byte{dep, builtin} {
		sc := bufio.NewScanner(bytes.NewReader(text))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p, _, _ := strings.Cut(sc.Text(), ":")
			if kmod.Name(path.Base(strings.TrimSpace(p))) == kmod.Name(name) {
				return true
			}
		}
	}
	return false
}
