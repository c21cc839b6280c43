package cm

import (
	"path/filepath"
	"sort"

	"unit/config"
)

// plan is a config turned into resources and their graph.
type plan struct {
	res   map[string]Resource
	g     *graph
	audit map[string]bool // reports drift, never repairs (only true entries)
	purge map[string]bool // removed from the system when dropped from the config (only true entries)
}

// buildPlan turns a validated config into resources, keyed by id, and the
// dependency graph. Its error is a config error (a cycle made with the
// automatic edges), with file:line.
func buildPlan(cfg *config.Config, en *env) (*plan, error) {
	p := &plan{res: map[string]Resource{}, audit: map[string]bool{}, purge: map[string]bool{}}
	put := func(r Resource, audit, purge bool) {
		p.res[r.ID()] = r
		if audit || cfg.CM.Audit {
			p.audit[r.ID()] = true
		}
		if purge || cfg.CM.Purge {
			p.purge[r.ID()] = true
		}
	}
	for _, k := range cfg.FilePaths() {
		f := cfg.Files[k]
		put(newFile(f, en).withPackage(cfg), f.Audit, f.Purge)
	}
	for _, k := range sortedKeys(cfg.Links) {
		put(newLink(cfg.Links[k], en), cfg.Links[k].Audit, cfg.Links[k].Purge)
	}
	userGroups := map[string][]string{}
	for _, k := range sortedKeys(cfg.Users) {
		u := cfg.Users[k]
		put(newUser(u, en), u.Audit, u.Purge)
		if !u.Absent() {
			for _, g := range u.Groups {
				userGroups[g] = append(userGroups[g], u.Name)
			}
		}
	}
	for _, k := range sortedKeys(cfg.Groups) {
		g := cfg.Groups[k]
		put(newGroup(g, userGroups[k], en), g.Audit, g.Purge)
	}
	for _, k := range sortedKeys(cfg.Sysctls) {
		put(newSysctl(cfg.Sysctls[k], en), cfg.Sysctls[k].Audit, cfg.Sysctls[k].Purge)
	}
	for _, k := range sortedKeys(cfg.Modules) {
		put(newModule(cfg.Modules[k], en), cfg.Modules[k].Audit, cfg.Modules[k].Purge)
	}
	for _, k := range sortedKeys(cfg.Mounts) {
		put(newMount(cfg.Mounts[k], en), cfg.Mounts[k].Audit, cfg.Mounts[k].Purge)
	}
	for _, k := range sortedKeys(cfg.Packages) {
		put(newPackage(cfg.Packages[k], en), cfg.Packages[k].Audit, cfg.Packages[k].Purge)
	}
	for _, k := range sortedKeys(cfg.Execs) {
		put(newExec(cfg.Execs[k], en), cfg.Execs[k].Audit, cfg.Execs[k].Purge)
	}
	for _, k := range cfg.ServiceNames() {
		put(newService(cfg.Services[k], en), false, false)
	}
	if h := cfg.System.Hostname; h != "" && en.hostname {
		put(&hostnameRes{name: h, env: en}, false, false)
	}
	for _, k := range cfg.NetNames() {
		put(newNet(cfg.Nets[k], en), false, false)
	}
	// Directories last: purge_unmanaged needs to know what else is managed.
	for _, k := range sortedKeys(cfg.Dirs) {
		d := cfg.Dirs[k]
		var managed map[string]bool
		if d.PurgeUnmanaged {
			managed = managedIn(p.res, cfg, k)
		}
		put(newDir(d, managed, en).withPackage(cfg), d.Audit, d.Purge)
	}
	g, err := buildGraph(cfg, p.res)
	if err != nil {
		return nil, err
	}
	p.g = g
	return p, nil
}

// managedIn lists the base names directly in dir that resources manage:
// their paths, or the first path component below dir of deeper ones.
func managedIn(res map[string]Resource, cfg *config.Config, dir string) map[string]bool {
	out := map[string]bool{}
	note := func(path string) {
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
			return
		}
		first := rel
		if i := indexSep(rel); i >= 0 {
			first = rel[:i]
		}
		out[first] = true
	}
	for _, r := range res {
		if pr, ok := r.(pathed); ok {
			note(pr.Path())
		}
		if pk, ok := r.(*packageRes); ok {
			for _, w := range pk.Watches() {
				note(w)
			}
		}
	}
	for k := range cfg.Dirs {
		note(k)
	}
	return out
}

func indexSep(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Validate checks what only the engine knows: that the graph, with its
// automatic edges, has no cycle. `unit check` runs it after config.Load.
func Validate(cfg *config.Config) error {
	_, err := buildPlan(cfg, defaultEnv())
	return err
}
