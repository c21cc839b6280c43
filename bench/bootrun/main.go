// Command bootrun boots an image directory under qemu as `unit image run`
// would (image.QemuArgs: the same argv for unit's image and the floor's),
// copies the serial console to stdout, and stops qemu, the one process it
// started, when a console line matches -until or after -timeout.
// bench/boot.sh runs it. Usage: bootrun -until REGEX DIR
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"time"

	"github.com/unit-os/unit/image"
)

func main() {
	until := flag.String("until", "", "stop qemu once a console line matches this regexp")
	timeout := flag.Duration("timeout", 3*time.Minute, "stop qemu after this long in any case")
	flag.Parse()
	if flag.NArg() != 1 || *until == "" {
		fmt.Fprintln(os.Stderr, "usage: bootrun -until REGEX DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), regexp.MustCompile(*until), *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bootrun:", err)
		os.Exit(1)
	}
}

func run(dir string, until *regexp.Regexp, timeout time.Duration) error {
	argv := image.QemuArgs(dir, image.RunOptions{})
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start qemu: %w", err)
	}
	timer := time.AfterFunc(timeout, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Println(sc.Text())
		if until.MatchString(sc.Text()) {
			_ = cmd.Process.Kill()
			break
		}
	}
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()
	return nil
}
