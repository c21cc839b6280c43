package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/unit-os/unit/execfile"
)

// explainExec turns execve's ENOENT on a program that exists into what
// really is missing: the kernel says "no such file or directory" both for a
// missing program and for a missing ELF interpreter (ld.so) or #! interpreter,
// and the second is the usual mistake in a hand-made image.
func explainExec(path string, err error) error {
	if !errors.Is(err, syscall.ENOENT) {
		return err
	}
	if _, serr := os.Stat(path); serr != nil {
		return err // the program itself is missing
	}
	interp, kind := interpreterOf(path)
	if interp == "" {
		return err
	}
	if _, serr := os.Stat(interp); serr == nil {
		return err
	}
	return fmt.Errorf("%w: %s exists, but its %s %s does not", err, path, kind, interp)
}

// interpreterOf is the program's ELF interpreter or the first word of its
// #! line, and which of the two; "" when it has none or cannot be read.
func interpreterOf(path string) (interp, kind string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	head := make([]byte, 256)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", ""
	}
	head = head[:n]
	if interp, _, ok := execfile.ScriptInterp(head); ok {
		return interp, "#! interpreter"
	}
	if interp, err := execfile.ELFInterp(f); err == nil && interp != "" {
		return interp, "ELF interpreter"
	}
	return "", ""
}
