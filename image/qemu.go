package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RunOptions tune a qemu boot of a built image.
type RunOptions struct {
	Memory string // guest memory; default "512M"
	// Append is extra kernel command line, after Cmdline (or, for the
	// kernel of a disk image, after the build's own, which names the root).
	Append    string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	ExtraArgs []string // appended to qemu's argv
	// Format: FormatDisk boots DIR/disk.img through OVMF, FormatInitramfs
	// the kernel directly; "" picks disk when DIR has one.
	Format string
	// Forward are "HOST:GUEST" TCP ports; the host side listens on
	// 127.0.0.1 only.
	Forward []string
	NIC     string // qemu NIC model; default virtio-net-pci
	// DiskBus is how the disk is attached: "virtio" (default) or "ahci"
	// (q35's SATA controller, as on real machines).
	DiskBus string
	// Control is the unix socket qemu listens on for the guest's control
	// port (a virtio-serial port unit serves its control socket on);
	// "" adds none.
	Control string
	// Reboot keeps qemu running when the guest reboots (or panics), as a
	// machine does; by default qemu exits then.
	Reboot bool
}

// ControlPort is the virtio-serial port name unit serves its control
// socket on (api.ControlPort; image does not import api).
const ControlPort = "org.unit.control"

// OVMF firmware from Debian's ovmf package. The variable store is opened
// with snapshot=on: the guest may write to it, nothing reaches the file.
const (
	OVMFCode = "/usr/share/OVMF/OVMF_CODE.fd"
	OVMFVars = "/usr/share/OVMF/OVMF_VARS.fd"
)

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
	diskDir := exists(filepath.Join(dir, DiskName))
	if m, ok := readManifest(dir); ok && m.Format == FormatDisk {
		// A disk image's initramfs only mounts the root partition: the
		// command line that names it comes with the build.
		cmdline = m.Cmdline
	}
	if o.Append != "" {
		cmdline += " " + o.Append
	}
	args := []string{
		"qemu-system-x86_64",
		"-accel", "tcg",
		"-m", mem,
		"-smp", "2",
		"-nographic",
	}
	if !o.Reboot {
		args = append(args, "-no-reboot")
	}
	// Entropy for the guest's CRNG (see hardwareProfile).
	args = append(args, "-device", "virtio-rng-pci")
	disk := filepath.Join(dir, DiskName)
	if o.Format == FormatDisk || (o.Format == "" && diskDir) {
		args = append(args, "-machine", "q35",
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+OVMFCode,
			"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file="+OVMFVars)
		args = append(args, diskArgs(disk, o.DiskBus)...)
	} else {
		if o.DiskBus == "ahci" {
			args = append(args, "-machine", "q35")
		}
		args = append(args,
			"-kernel", filepath.Join(dir, VmlinuzName),
			"-initrd", filepath.Join(dir, InitramfsName),
			"-append", cmdline)
		if diskDir {
			// The kernel and initramfs of a disk image, booted without
			// firmware: the root is still on the disk.
			args = append(args, diskArgs(disk, o.DiskBus)...)
		}
	}
	nic := o.NIC
	if nic == "" {
		nic = "virtio-net-pci"
	}
	user := "user,model=" + nic
	for _, f := range o.Forward {
		host, guest, _ := strings.Cut(f, ":")
		user += ",hostfwd=tcp:127.0.0.1:" + host + "-:" + guest
	}
	args = append(args, "-nic", user)
	if o.Control != "" {
		args = append(args, "-device", "virtio-serial-pci,id=unitctl-bus",
			"-chardev", "socket,id=unitctl,path="+o.Control+",server=on,wait=off",
			"-device", "virtserialport,bus=unitctl-bus.0,chardev=unitctl,name="+ControlPort)
	}
	return append(args, o.ExtraArgs...)
}

// diskArgs attach the disk image on bus ("virtio" or "ahci").
func diskArgs(disk, bus string) []string {
	if bus == "ahci" {
		return []string{"-drive", "if=none,id=disk0,format=raw,file=" + disk, "-device", "ide-hd,drive=disk0,bus=ide.0"}
	}
	return []string{"-drive", "if=virtio,format=raw,file=" + disk}
}

// readManifest reads what DIR/manifest.json says about the build's
// format and command line; ok is false without a readable manifest.
func readManifest(dir string) (m struct {
	Format  string `json:"format"`
	Cmdline string `json:"cmdline"`
}, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil || json.Unmarshal(b, &m) != nil || m.Cmdline == "" {
		return m, false
	}
	return m, true
}

// Run boots the image in dir with qemu attached to the given stdio (the
// process's own when nil) and returns qemu's exit error. Cancelling ctx asks
// qemu to quit with SIGTERM, then kills it.
func Run(ctx context.Context, dir string, o RunOptions) error {
	need := map[string]string{filepath.Join(dir, VmlinuzName): "build the image first", filepath.Join(dir, InitramfsName): "build the image first"}
	if o.Format == FormatDisk || (o.Format == "" && exists(filepath.Join(dir, DiskName))) {
		need = map[string]string{filepath.Join(dir, DiskName): "build it with --format disk", OVMFCode: "install ovmf", OVMFVars: "install ovmf"}
	}
	for path, hint := range need {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("image run: %w (%s)", err, hint)
		}
	}
	for _, f := range o.Forward {
		if err := checkForward(f); err != nil {
			return err
		}
		if err := checkHostPort(f); err != nil {
			return err
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

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// checkForward validates a "HOST:GUEST" port pair.
func checkForward(f string) error {
	host, guest, ok := strings.Cut(f, ":")
	if !ok {
		return fmt.Errorf("forward %q: want HOST:GUEST, e.g. 8080:80", f)
	}
	for _, p := range []string{host, guest} {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("forward %q: %q is not a port (1-65535)", f, p)
		}
	}
	return nil
}

// checkHostPort listens on a forward's host port and closes it again, so
// a taken port is said in one line before qemu starts (qemu's own error
// is a paragraph that names neither the flag nor the port plainly).
func checkHostPort(f string) error {
	host, _, _ := strings.Cut(f, ":")
	l, err := net.Listen("tcp", "127.0.0.1:"+host)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("--forward %s: host port %s is taken", f, host)
	}
	if err != nil {
		return fmt.Errorf("--forward %s: host port %s: %w", f, host, err)
	}
	return l.Close()
}
