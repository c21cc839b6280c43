package cm

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/platform"
)

// Facts are what templates know about the machine, as `unit facts` shows.
type Facts struct {
	Hostname  string              `json:"hostname"`
	Kernel    string              `json:"kernel"`
	Arch      string              `json:"arch"`
	CPUs      int                 `json:"cpus"`
	Memory    uint64              `json:"memory"` // bytes
	Addresses map[string][]string `json:"addresses"`
	System    SystemFacts         `json:"system"`
	// Platform are what the machine's platform says about it (a NoCloud
	// seed's meta-data, the cloud's IMDS: instance_id, local_hostname,
	// role, ...), read from the state directory's platform.FactsPath.
	Platform map[string]string `json:"platform"`
}

// SystemFacts are the [system] values of the config.
type SystemFacts struct {
	Hostname string   `json:"hostname"`
	Modules  []string `json:"modules"`
	Packages []string `json:"packages"`
}

// GatherFacts reads the facts from the running system, the platform facts
// of the daemon whose state directory is stateDir (platform.FactsPath) and
// cfg's [system] table (cfg may be nil). Errors on single facts leave
// them empty: a template that needs one fails at render time with a clear
// message.
func GatherFacts(cfg *config.Config, stateDir string) *Facts {
	return gatherFacts(cfg, platform.FactsPath(stateDir))
}

// gatherFacts is GatherFacts with the platform facts read from
// platformFile ("" reads none): an engine's own file (WithPlatformFacts).
func gatherFacts(cfg *config.Config, platformFile string) *Facts {
	f := &Facts{Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Addresses: map[string][]string{}}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		f.Hostname = unix.ByteSliceToString(u.Nodename[:])
		f.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		f.Memory = uint64(si.Totalram) * uint64(si.Unit)
	}
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			addrs, err := ifc.Addrs()
			if err != nil {
				continue
			}
			var list []string
			for _, a := range addrs {
				list = append(list, a.String())
			}
			sort.Strings(list)
			f.Addresses[ifc.Name] = list
		}
	}
	f.Platform = map[string]string{}
	if platformFile != "" {
		if p, err := platform.ReadFacts(platformFile); err == nil {
			f.Platform = p
		}
	}
	if cfg != nil {
		f.System = SystemFacts{Hostname: cfg.System.Hostname, Modules: cfg.System.Modules, Packages: cfg.System.Packages}
	}
	return f
}

// templateData is what a template sees: .facts.* and .vars.*, with the
// lower-case names `unit facts --json` prints.
func (f *Facts) templateData(vars map[string]any) map[string]any {
	if vars == nil {
		vars = map[string]any{}
	}
	addrs := map[string]any{}
	for k, v := range f.Addresses {
		addrs[k] = v
	}
	platform := map[string]any{}
	for k, v := range f.Platform {
		platform[k] = v
	}
	return map[string]any{
		"vars": vars,
		"facts": map[string]any{
			"hostname": f.Hostname, "kernel": f.Kernel, "arch": f.Arch,
			"cpus": f.CPUs, "memory": f.Memory, "addresses": addrs, "platform": platform,
			"system": map[string]any{
				"hostname": f.System.Hostname, "modules": f.System.Modules, "packages": f.System.Packages,
			},
		},
	}
}

// String prints the facts one per line, sorted, as `unit facts` shows them.
func (f *Facts) String() string {
	lines := []string{
		"hostname: " + f.Hostname,
		"kernel: " + f.Kernel,
		"arch: " + f.Arch,
		fmt.Sprintf("cpus: %d", f.CPUs),
		fmt.Sprintf("memory: %d", f.Memory),
	}
	names := make([]string, 0, len(f.Addresses))
	for n := range f.Addresses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, a := range f.Addresses[n] {
			lines = append(lines, fmt.Sprintf("addresses.%s: %s", n, a))
		}
	}
	keys := make([]string, 0, len(f.Platform))
	for k := range f.Platform {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lines = append(lines, "platform."+k+": "+f.Platform[k])
	}
	lines = append(lines, "system.hostname: "+f.System.Hostname)
	lines = append(lines, fmt.Sprintf("system.modules: %v", f.System.Modules))
	lines = append(lines, fmt.Sprintf("system.packages: %v", f.System.Packages))
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

// hostFromEnv is the machine's hostname as the kernel has it.
func currentHostname() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("hostname: %w", err)
	}
	return h, nil
}
