package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// RunOptions tune a qemu boot of a built image.
type RunOptions struct {
	Memory    string // guest memory; default "512M"
	Append    string // extra kernel command line, after Cmdline
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	ExtraArgs []string // appended to qemu's argv
}

// QemuArgs is the full qemu argv that boots the image in dir. KVM is never
// used: on these machines /dev/kvm exists but nested KVM fails. The serial
// console is stdio; -no-reboot turns a guest reboot (or a panic, through
// panic=-1) into qemu exiting, and a guest power-off exits with status 0.
// The NIC is user-mode so port forwards can be added later.
func QemuArgs(dir string, o RunOptions) []string {
	mem := o.Memory
	if mem == "" {
		mem = "512M"
	}
	cmdline := Cmdline
	if o.Append != "" {
		cmdline += " " + o.Append
	}
	args := []string{
		"qemu-system-x86_64",
		"-accel", "tcg",
		"-m", mem,
		"-smp", "2",
		"-nographic",
		"-no-reboot",
		"-kernel", filepath.Join(dir, VmlinuzName),
		"-initrd", filepath.Join(dir, InitramfsName),
		"-append", cmdline,
		"-nic", "user,model=virtio-net-pci",
	}
	return append(args, o.ExtraArgs...)
}

// Run boots the image in dir with qemu attached to the given stdio (the
// process's own when nil) and returns qemu's exit error. Cancelling ctx asks
// qemu to quit with SIGTERM, then kills it.
func Run(ctx context.Context, dir string, o RunOptions) error {
	for _, name := range []string{VmlinuzName, InitramfsName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("image run: %w (build the image first)", err)
		}
	}
	argv := QemuArgs(dir, o)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	if cmd.Stdin == nil {
		cmd.Stdin = os.Stdin
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("qemu: %w", err)
	}
	return nil
}
