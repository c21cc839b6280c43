//go:build builders

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/pkgbuild"
)

func cmdPkg(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, groupUsage("pkg"))
		return exitCode(2)
	}
	if isHelp(args[0]) {
		fmt.Println(groupUsage("pkg"))
		return nil
	}
	// The sandbox's inside: run by pkg build in new namespaces, not by people.
	if args[0] == pkgbuild.SandboxCommand[1] {
		return pkgbuild.SandboxMain(args[1:])
	}
	if _, ok := synopsis("pkg " + args[0]); !ok {
		return unknownSubcommand("pkg", args[0])
	}
	// Each subcommand takes the flags its synopsis lists.
	fs := newFlags("pkg " + args[0])
	store := fs.String("store", "", "store directory (default: $UNIT_CACHE/store or ~/.cache/unit/store)")
	jobs, asJSON, stale := new(int), new(bool), new(bool)
	var places placeList
	switch args[0] {
	case "push":
		fs.Var(&places, "to", "a place to push to, instead of pkg.toml's push (repeatable)")
	case "pull":
		fs.Var(&places, "from", "a place to pull from, instead of pkg.toml's caches (repeatable)")
	case "build":
		fs.IntVar(jobs, "j", 0, "builds at once (default: number of CPUs)")
	case "update":
		fs.BoolVar(stale, "stale", false, "re-pin only the locks that pin a .deb no place serves any more")
	case "ls":
		fs.BoolVar(asJSON, "json", false, "print JSON")
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if *store == "" {
		if *store, err = pkgbuild.DefaultStore(); err != nil {
			return err
		}
	}
	switch args[0] {
	case "build":
		if len(pos) == 0 {
			return errUsage("pkg build")
		}
		return pkgBuild(pos, *store, *jobs)
	case "update":
		if len(pos) == 0 {
			return errUsage("pkg update")
		}
		return pkgUpdate(pos, *store, *stale)
	case "push", "pull":
		if len(pos) == 0 {
			return errUsage("pkg " + args[0])
		}
		return pkgPushPull(args[0], updateFiles(pos), *store, places)
	case "ls":
		return pkgLs(*store, *asJSON)
	case "show":
		if len(pos) != 1 {
			return errUsage("pkg show")
		}
		k, err := pkgbuild.Current(*store, pos[0])
		if err != nil {
			return err
		}
		data, err := os.ReadFile(k.Dir + "/" + pkgbuild.MetaName)
		if err != nil {
			return err
		}
		fmt.Printf("%s\n%s", k.Dir, data)
		return nil
	case "gc":
		var roots []string
		for _, sys := range pos {
			cfg, err := image.LoadDescription(func(l config.Loader) (*config.Config, error) { return l.LoadFiles(sys) })
			if err != nil {
				return err
			}
			roots = append(roots, cfg.System.Packages...)
		}
		if len(pos) > 0 && roots == nil {
			roots = []string{}
		}
		removed, err := pkgbuild.GC(*store, roots)
		for _, r := range removed {
			fmt.Println("removed", r)
		}
		return err
	}
	return unknownSubcommand("pkg", args[0])
}

func pkgBuild(files []string, store string, jobs int) error {
	ctx, cancel := interruptible()
	defer cancel()
	b, _, err := newBuilder(store, func(o *pkgbuild.Options) { o.Jobs = jobs })
	if err != nil {
		return err
	}
	start := time.Now()
	results, err := b.Build(ctx, files)
	built, cached := 0, 0
	for _, r := range results {
		if r.Keg == nil {
			continue
		}
		fmt.Println(r.Keg.Dir)
		if r.Cached {
			cached++
		} else {
			built++
		}
	}
	fmt.Fprintf(os.Stderr, "%d built, %d cached, %d failed in %.2fs\n", built, cached, len(results)-built-cached, time.Since(start).Seconds())
	return err
}

// placeList is a repeatable --to/--from flag of places (cas.Parse).
type placeList []cas.Putter

func (p *placeList) String() string { return fmt.Sprint(*p) }
func (p *placeList) Set(s string) error {
	c, err := cas.Parse(s)
	if err != nil {
		return err
	}
	*p = append(*p, c)
	return nil
}

// newBuilder is a Builder with pkg.toml's caches, push places and
// snapshots, the store given and progress on stderr; edit changes the
// options first (nil: none). It returns the options too.
func newBuilder(store string, edit func(*pkgbuild.Options)) (*pkgbuild.Builder, pkgbuild.Options, error) {
	o, err := pkgbuild.PkgConfig()
	if err != nil {
		return nil, o, err
	}
	o.Store, o.Progress = store, os.Stderr
	if edit != nil {
		edit(&o)
	}
	b, err := pkgbuild.NewBuilder(o)
	return b, o, err
}

// pkgPushPull puts the pinned .debs the download cache holds to the push
// places (push), or fetches every pinned .deb into it (pull); places
// replace pkg.toml's push or caches for this run.
func pkgPushPull(verb string, files []string, store string, places placeList) error {
	ctx, cancel := interruptible()
	defer cancel()
	b, o, err := newBuilder(store, func(o *pkgbuild.Options) {
		if verb == "pull" && places != nil {
			o.Caches = nil
			for _, p := range places {
				o.Caches = append(o.Caches, p)
			}
		}
	})
	if err != nil {
		return err
	}
	if verb == "pull" {
		had, fetched, err := b.Pull(ctx, files)
		fmt.Fprintf(os.Stderr, "%d fetched, %d already in the download cache\n", fetched, had)
		return err
	}
	to := o.Push
	if places != nil {
		to = places
	}
	put, absent, err := b.Push(ctx, files, to)
	fmt.Fprintf(os.Stderr, "%d pushed to %d places, %d not in the download cache (unit pkg pull first)\n", put, len(to), absent)
	return err
}

// pkgUpdate re-resolves the deb sources of the recipes (a bare NAME means
// NAME.toml here, else packages/NAME.toml), or with --stale only those
// whose lock pins a .deb no place serves, and prints what moved.
func pkgUpdate(args []string, store string, onlyStale bool) error {
	ctx, cancel := interruptible()
	defer cancel()
	// pkg.toml's caches and snapshots: --stale asks them whether they hold a pin.
	b, _, err := newBuilder(store, nil)
	if err != nil {
		return err
	}
	if onlyStale {
		stale, moves, err := b.UpdateStale(ctx, updateFiles(args))
		for _, f := range stale {
			fmt.Fprintf(os.Stderr, "%s: a pinned .deb left the archive and no cache has it: re-pinned (commit the lock, or run make update-locks)\n", pkgbuild.LockPath(f))
		}
		for _, m := range moves {
			fmt.Println(m)
		}
		return err
	}
	moves, err := b.Update(ctx, updateFiles(args))
	for _, m := range moves {
		fmt.Println(m)
	}
	if err == nil && len(moves) == 0 {
		fmt.Fprintln(os.Stderr, "nothing moved")
	}
	return err
}

// updateFiles maps pkg update's arguments to recipe files: a path or
// *.toml as given, a bare NAME to NAME.toml here if there is one, else to
// packages/NAME.toml.
func updateFiles(args []string) []string {
	files := make([]string, len(args))
	for i, a := range args {
		files[i] = a
		if !strings.HasSuffix(a, ".toml") && !strings.Contains(a, "/") {
			files[i] = a + ".toml"
			if _, err := os.Stat(files[i]); err != nil {
				files[i] = filepath.Join("packages", a+".toml")
			}
		}
	}
	return files
}

func pkgLs(store string, asJSON bool) error {
	kegs, err := pkgbuild.List(store)
	if err != nil {
		return err
	}
	sort.SliceStable(kegs, func(i, j int) bool { return kegs[i].Name < kegs[j].Name })
	if asJSON {
		if kegs == nil {
			kegs = []*pkgbuild.Keg{}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(kegs)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tHASH\tCURRENT\tDEPS")
	for _, k := range kegs {
		cur := ""
		if pkgbuild.IsCurrent(store, k) {
			cur = "*"
		}
		var deps []string
		for d := range k.Deps {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.Version, k.Hash, cur, strings.Join(deps, ","))
	}
	return tw.Flush()
}
