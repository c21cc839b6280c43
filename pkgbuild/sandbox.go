package pkgbuild

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// SandboxCommand is the argv (after the helper binary) that runs the
// sandbox's inside: `unit pkg sandbox SPEC`. cmd/unit dispatches it to
// SandboxMain; tests dispatch it from TestMain.
var SandboxCommand = []string{"pkg", "sandbox"}

// IsSandboxCall says whether args (a program's os.Args) ask for the
// sandbox's inside: the helper is PID 1 of the build's pid namespace,
// and must not take itself for a booting machine's init.
func IsSandboxCall(args []string) bool {
	return len(args) > 2 && args[1] == SandboxCommand[0] && args[2] == SandboxCommand[1]
}

// ServeSandbox runs the sandbox's inside and exits when args ask for it
// (IsSandboxCall), and returns otherwise: the first thing the helper's
// main does, be it unit-build or a test binary.
func ServeSandbox(args []string) {
	if !IsSandboxCall(args) {
		return
	}
	if err := SandboxMain(args[3:]); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// sandboxSpec tells the helper how to lay out the build's root and what
// to run in it. Paths in Mounts' Src are the host's; everything else is
// inside the sandbox.
type sandboxSpec struct {
	Root     string            `json:"root"`   // empty host dir that becomes /
	Mounts   []mount           `json:"mounts"` // in order
	Links    map[string]string `json:"links"`  // symlinks to make in the new root
	Files    map[string]string `json:"files"`  // small generated files (etc/passwd)
	Steps    [][]string        `json:"steps"`
	Dir      string            `json:"dir"` // working directory of the steps
	Env      []string          `json:"env"`
	Hostname string            `json:"hostname"`
}

type mount struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
	RW  bool   `json:"rw,omitempty"`
}

// hostToolchain is what a build sees of the host, read-only: the programs
// and libraries, and just enough of /etc for the dynamic loader and
// Debian's alternatives (cc, awk).
var hostToolchain = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"}

// devices are bound from the host's /dev.
var devices = []string{"null", "zero", "full", "random", "urandom"}

// addHost adds the host toolchain to spec: a symlink stays a symlink (merged
// /usr), anything that exists is bound read-only.
func (spec *sandboxSpec) addHost() {
	for _, p := range hostToolchain {
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err == nil {
				spec.Links[p] = t
			}
			continue
		}
		spec.Mounts = append(spec.Mounts, mount{Src: p, Dst: p})
	}
	for _, d := range devices {
		spec.Mounts = append(spec.Mounts, mount{Src: "/dev/" + d, Dst: "/dev/" + d, RW: true})
	}
	spec.Links["/dev/fd"] = "/proc/self/fd"
	spec.Links["/dev/stdin"] = "/proc/self/fd/0"
	spec.Links["/dev/stdout"] = "/proc/self/fd/1"
	spec.Links["/dev/stderr"] = "/proc/self/fd/2"
	spec.Files["/etc/passwd"] = "root:x:0:0:build:/home/build:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	spec.Files["/etc/group"] = "root:x:0:\nnogroup:x:65534:\n"
	spec.Files["/etc/hosts"] = "127.0.0.1\tlocalhost\n"
}

// runSandbox runs spec's steps in new user, mount, network, pid, UTS and
// IPC namespaces, through helper (the unit binary), with output to log.
// The build's root user is the caller's uid; it has no capabilities once
// the steps run.
func runSandbox(ctx context.Context, helper string, spec *sandboxSpec, specFile string, log io.Writer) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, helper, append(append([]string{}, SandboxCommand...), specFile)...)
	cmd.Env = spec.Env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET |
			syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("sandbox (%s): %w", filepath.Base(helper), err)
	}
	return nil
}
