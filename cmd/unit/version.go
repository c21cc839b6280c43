package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=..." (the
// Makefile uses `git describe`); otherwise it comes from the build info.
var version = "dev"

// buildVersion is what `unit version` reports.
type buildVersion struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Dirty   bool   `json:"dirty,omitempty"`
	Go      string `json:"go"`
}

// readVersion takes the commit and its dirty bit from the VCS stamp that
// `go build` records in a git checkout, so a plain `go build` or `go
// install` reports where it came from, not "dev".
func readVersion() buildVersion {
	v := buildVersion{Version: version}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Dirty = s.Value == "true"
		}
	}
	if v.Version == "dev" {
		switch {
		case info.Main.Version != "" && info.Main.Version != "(devel)":
			// go install module@version, or the pseudo-version Go
			// derives from the checkout's commit.
			v.Version = info.Main.Version
		case len(v.Commit) >= 12:
			v.Version = v.Commit[:12]
			if v.Dirty {
				v.Version += "-dirty"
			}
		}
	}
	return v
}

func cmdVersion(args []string) error {
	fs := newFlags("version")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	v := readVersion()
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(v)
	}
	line := "unit " + v.Version
	if len(v.Commit) >= 12 && !strings.Contains(v.Version, v.Commit[:12]) {
		line += " (" + v.Commit[:12]
		if v.Dirty {
			line += ", dirty"
		}
		line += ")"
	}
	_, err := fmt.Println(line + " " + v.Go)
	return err
}
