package image

import (
	"context"
	"fmt"
	"strings"
)

// layout is the image's files, in the parts the initramfs packs apart.
type layout struct {
	base    []entry // unit, the fleet agent, busybox, the skeleton
	conf    []entry // the system's config and its release
	pkgs    []entry // the kegs' files, the Debian closure, ld.so.cache
	applets int     // busybox's applets, for the log
	fleet   *File   // the unit-fleet program ([fleet] agent = true)
	release string
	debs    *debSelection
}

// assemble lays out the image's files from the resolved inputs: the base
// system, the config, the packages' files and the runtime closure of the
// Debian packages.
func assemble(ctx context.Context, in *inputs) (*layout, error) {
	cfg, log := in.cfg, in.log
	t := &layout{base: baseEntries(in.unitBin)}
	if cfg.Fleet.Agent {
		e, f, err := fleetEntry(in.o.Fleet, cfg.Fleet.Pos)
		if err != nil {
			return nil, err
		}
		t.base, t.fleet = append(t.base, e), f
	}
	var kegHashes []string
	for _, p := range in.pkgs.Kegs {
		kegHashes = append(kegHashes, p.KegHash)
	}
	for _, k := range in.pkgs.Debs {
		kegHashes = append(kegHashes, k.Hash)
	}
	t.release = releaseName(releaseID(ctx, in.o.System, in.recipes, kegHashes), in.comp)
	log.Info("release", "id", t.release)
	t.conf = append(configEntries(in.systemTOML), releaseEntry(t.release))
	bbEntries, err := in.busybox.entries(takenPaths(t.base))
	if err != nil {
		return nil, err
	}
	t.base, t.applets = append(t.base, bbEntries...), len(bbEntries)-1
	if t.pkgs, err = in.pkgs.entries(takenPaths(append(t.conf, t.base...))); err != nil {
		return nil, err
	}
	// Debian packages: only their runtime closure, checked against what
	// the services run (every image: a service's program must be there).
	rest := append(append(append([]entry(nil), t.base...), t.conf...), t.pkgs...)
	sel, err := memoSelectDebs(in.cache, cfg, log, in.pkgs.Debs, in.pkgs.Named, rest)
	if err != nil {
		return nil, err
	}
	t.debs = sel
	t.base = dropApplets(t.base, sel.Replaced)
	t.pkgs = append(t.pkgs, sel.Entries...)
	if in.o.Notes != nil {
		for _, n := range sel.Notes {
			fmt.Fprintln(in.o.Notes, n)
		}
	}
	if in.units != nil {
		// PID 1 translates the same unit files at boot.
		es, err := in.units.entries()
		if err != nil {
			return nil, err
		}
		have := takenPaths(t.pkgs)
		for _, e := range es {
			if !have[e.Name] {
				t.pkgs = append(t.pkgs, e)
			}
		}
	}
	if len(sel.Entries) > 0 {
		cache, err := ldCache(append(rest, sel.Entries...))
		if err != nil {
			return nil, err
		}
		t.pkgs = append(t.pkgs, cache)
	}
	// What the packages declare (users, directories): a vendor layer
	// below the system's config, which is loaded again over it.
	if err := in.declare(t); err != nil {
		return nil, err
	}
	if err := checkAccounts(in.cfg, t.base); err != nil {
		return nil, err
	}
	for _, d := range sel.Used {
		log.Info("debian package", "name", d.Package, "version", d.Version, "files", d.Files, "why", d.Why)
	}
	if len(sel.Dropped) > 0 {
		log.Info("debian packages left out: nothing that runs needs them", "packages", strings.Join(sel.Dropped, " "))
	}
	return t, nil
}
