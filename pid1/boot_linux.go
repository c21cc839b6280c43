package pid1

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/daemon"
	"github.com/unit-os/unit/disk"
	"github.com/unit-os/unit/supervise"
	"github.com/unit-os/unit/systemd/translate"
	"github.com/unit-os/unit/update"
)

// ConfigDir is where PID 1 reads its configuration.
const ConfigDir = "/etc/unit"

// servicesCgroup holds one cgroup per service.
const servicesCgroup = "/sys/fs/cgroup/services"

// Boot is main() when unit is PID 1. It never returns: it ends in reboot(2).
func Boot() {
	defer func() {
		// The last line of defence: PID 1 exiting panics the kernel.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "unit: PID 1 panic: %v; halting\n", r)
			final(unix.LINUX_REBOOT_CMD_HALT)
		}
	}()
	console := openConsole()
	journal := &daemon.Journal{}
	log := daemon.BootLogger(console, journal)
	slog.SetDefault(log)

	if err := mountEarly(); err != nil {
		log.Error("early mounts", "err", err)
	}
	initUp := bootTime()
	fmt.Fprintf(console, "unit: PID %d, started %.3fs after kernel start\n", os.Getpid(), initUp.Seconds())
	steps := newPhases(bootTime)
	// Ask the kernel to send SIGINT on ctrl-alt-del instead of rebooting at once.
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)

	power := make(chan uint, 1)
	requestPower := func(cmd uint) {
		select {
		case power <- cmd:
		default:
		}
	}
	go watchSignals(requestPower)

	// The disk format: this is the initramfs, which only mounts the root
	// and hands over to the unit on it.
	if spec, ok, err := wantsRoot(kernelCmdline()); ok {
		if err == nil {
			err = bootRoot(log, console, spec)
		}
		fmt.Fprintf(console, "unit: cannot boot the root: %v\n", err)
		// A machine nobody is watching reboots: if this was an update's
		// first boot, the next one takes the other slot.
		fmt.Fprintf(console, "unit: rebooting in %s (the boot loader falls back to the other slot if this one was on trial)\n", rootFailReboot)
		time.AfterFunc(rootFailReboot, func() { requestPower(unix.LINUX_REBOOT_CMD_RESTART) })
		emergency(log, console, power)
		return
	}

	// Before any driver loads: turning the controllers on flips the
	// kernel's static keys (memcg's), code patching that under TCG has
	// livelocked both vCPUs when another one was busy in a driver's probe
	// (soft lockups in kmem_cache_alloc, the probe in ACPI's interpreter).
	cgroups := cgroupsIfAvailable(log)
	steps.done("cgroups")

	// Drivers load while the configuration is read.
	devs := startDevices(log, console)
	steps.done("plug")

	// A service without exec runs from its package's unit file, read
	// from the image at each load (docs/debian.md).
	loader := config.Loader{Declared: translate.Declared("/"), Vendor: config.VendorDir}
	cfg, err := loader.Load(ConfigDir)
	if err != nil {
		fmt.Fprintf(console, "unit: invalid configuration, no services started:\n%v\n", err)
		emergency(log, console, power)
		return
	}
	steps.done("config")
	setup(log, console, cfg, steps, devs)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		cmd := <-power
		power <- cmd
		cancel()
	}()
	slots := machineSlots(log, console)
	steps.done("slots")
	go hardwareWatchdog(ctx, log, console, "/run/unit/unit.sock")
	// The host's port outlives the daemon's context: the answer to a
	// poweroff asked through it, and what the shutdown prints, must still
	// reach the host; final() ends it with the machine.
	go serveControlPort(context.Background(), log, "/run/unit/unit.sock")
	err = daemon.Run(ctx, daemon.Options{
		ConfigDir: ConfigDir, Config: cfg, Loader: loader, StateDir: "/run/unit", Socket: "/run/unit/unit.sock",
		Cgroups: cgroups, Console: console, Log: log, Journal: journal, DevLog: "/dev/log", Release: readRelease(), Slots: slots,
		OnPower: func(action string) { requestPower(powerCmd(action)) },
		OnReady: func(n int, down []string) string {
			up := bootTime()
			steps.done("services")
			log.Info("boot phases", "since_init", up-initUp, "phases", steps.String())
			fmt.Fprintf(console, "unit: boot phases: %s\n", steps)
			return daemon.BootSummary(n, down, up.Seconds(), (up - initUp).Seconds())
		},
	})
	if err != nil {
		log.Error("daemon", "err", err)
	}
	final(<-power)
}

func setup(log *slog.Logger, console io.Writer, cfg *config.Config, steps *phases, devs *devices) {
	if err := setHostname(cfg.System.Hostname); err != nil {
		log.Error("hostname", "err", err)
	}
	if err := protectLinks(); err != nil {
		log.Error("link protections", "err", err)
	}
	if err := loopbackUp(); err != nil {
		log.Error("loopback", "err", err)
	}
	steps.done("system")
	devs.waitFor(bootDevices(cfg))
	steps.done("devices")
	dataUp(log, console, cfg)
	switch facts, err := platformFacts(log, disk.System()); {
	case err != nil:
		fmt.Fprintf(console, "unit: platform facts: %v\n", err)
	case facts != nil:
		keys := make([]string, 0, len(facts))
		for k := range facts {
			keys = append(keys, k+"="+facts[k])
		}
		sort.Strings(keys)
		fmt.Fprintf(console, "unit: platform facts from a NoCloud seed: %s\n", strings.Join(keys, " "))
	}
	steps.done("platform")
	if len(cfg.System.Modules) > 0 {
		loaded, withDevices, err := devs.loadModules(cfg.System.Modules)
		if err != nil {
			log.Error("modules", "err", err, "loaded", loaded)
		} else {
			log.Info("modules loaded", "modules", loaded, "with_their_devices", withDevices)
		}
	}
	steps.done("modules")
}

func cgroupsIfAvailable(log *slog.Logger) string {
	if err := supervise.EnableControllers("/sys/fs/cgroup", servicesCgroup); err != nil {
		log.Warn("cgroups unavailable; services run without limits", "err", err)
		return ""
	}
	return servicesCgroup
}

// openConsole makes sure fds 0-2 are the console (the kernel opens
// /dev/console for init only if it exists in the initramfs).
func openConsole() *os.File {
	if _, err := unix.FcntlInt(1, unix.F_GETFD, 0); err == nil {
		return os.Stdout
	}
	_ = os.MkdirAll("/dev", 0o755)
	_ = unix.Mount("devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755")
	f, err := os.OpenFile("/dev/console", os.O_RDWR, 0)
	if err != nil {
		return os.Stdout
	}
	for fd := 0; fd < 3; fd++ {
		_ = unix.Dup2(int(f.Fd()), fd)
	}
	return f
}

// watchSignals maps PID 1's signals to power actions, as sysvinit and
// systemd do: INT (ctrl-alt-del) and TERM reboot, USR2 powers off, USR1 halts.
func watchSignals(request func(uint)) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2)
	for sig := range ch {
		switch sig {
		case syscall.SIGINT, syscall.SIGTERM:
			request(unix.LINUX_REBOOT_CMD_RESTART)
		case syscall.SIGUSR2:
			request(unix.LINUX_REBOOT_CMD_POWER_OFF)
		case syscall.SIGUSR1:
			request(unix.LINUX_REBOOT_CMD_HALT)
		}
	}
}

func powerCmd(action string) uint {
	switch action {
	case "poweroff":
		return unix.LINUX_REBOOT_CMD_POWER_OFF
	case "halt":
		return unix.LINUX_REBOOT_CMD_HALT
	}
	return unix.LINUX_REBOOT_CMD_RESTART
}

// emergency keeps PID 1 alive with a bad config: a shell on the console if
// there is one, and power signals still work.
func emergency(log *slog.Logger, console *os.File, power chan uint) {
	r := supervise.NewReaper(log)
	go r.Run(context.Background())
	if _, err := os.Stat("/bin/sh"); err == nil {
		fmt.Fprintln(console, "unit: starting an emergency shell on the console; fix /etc/unit and reboot")
		go func() {
			_, _ = r.RunCommand(context.Background(), []string{"/bin/sh"}, []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin"}, nil)
		}()
	}
	final(<-power)
}

// final ends the machine: everything left gets TERM then KILL, disks are
// synced and unmounted, and the kernel is told what to do.
func final(cmd uint) {
	fmt.Fprintln(os.Stdout, "unit: sending SIGTERM to remaining processes")
	_ = unix.Kill(-1, unix.SIGTERM)
	waitChildren(2 * time.Second)
	_ = unix.Kill(-1, unix.SIGKILL)
	waitChildren(time.Second)
	unix.Sync()
	if err := unmountAll(); err != nil {
		fmt.Fprintf(os.Stdout, "unit: %v\n", err)
	}
	unix.Sync()
	names := map[uint]string{unix.LINUX_REBOOT_CMD_RESTART: "reboot", unix.LINUX_REBOOT_CMD_POWER_OFF: "power off", unix.LINUX_REBOOT_CMD_HALT: "halt"}
	fmt.Fprintf(os.Stdout, "unit: %s\n", names[cmd])
	for {
		if err := unix.Reboot(int(cmd)); err != nil {
			fmt.Fprintf(os.Stdout, "unit: reboot(2): %v\n", err)
		}
		time.Sleep(time.Second)
	}
}

// waitChildren reaps until no child is left or d passes.
func waitChildren(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.ECHILD {
			return
		}
		if pid <= 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// rootFailReboot is how long the disk format's first stage shows why it
// cannot boot the root before it reboots.
const rootFailReboot = 10 * time.Second

// machineSlots finds the root slots of a disk machine and reads what they
// hold (nil on other machines). On an update's first boot without a
// hardware watchdog it loads softdog, so that a PID 1 that hangs resets
// the machine into the other slot as one that crashes does (panic=).
func machineSlots(log *slog.Logger, console io.Writer) *update.Slots {
	s, err := update.OpenSlots(log, disk.System(), kernelCmdline())
	if err != nil {
		fmt.Fprintf(console, "unit: root slots: %v\n", err)
		return nil
	}
	if s == nil {
		return nil
	}
	if err := s.Load(); err != nil {
		fmt.Fprintf(console, "unit: root slots: %v\n", err)
	}
	if s.Trial() {
		if err := softWatchdog(); err != nil {
			fmt.Fprintf(console, "unit: update on trial without a watchdog: %v\n", err)
		}
	}
	return s
}
