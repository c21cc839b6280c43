package supervise

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
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

// interpreterOf reads the program's PT_INTERP, or the first word of its #!
// line; "" when it has none or cannot be read.
func interpreterOf(path string) (interp, kind string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil {
		return "", ""
	}
	if bytes.HasPrefix(head, []byte("#!")) {
		line, _ := bufio.NewReader(io.MultiReader(bytes.NewReader(head[2:]), f)).ReadString('\n')
		if fields := strings.Fields(line); len(fields) > 0 {
			return fields[0], "#! interpreter"
		}
		return "", ""
	}
	if !bytes.Equal(head, []byte(elf.ELFMAG)) {
		return "", ""
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return "", ""
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Open(), 4096))
		if err != nil {
			return "", ""
		}
		return string(bytes.TrimRight(b, "\x00")), "ELF interpreter"
	}
	return "", ""
}
