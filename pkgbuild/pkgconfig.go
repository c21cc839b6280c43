package pkgbuild

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/config"
)

// pkgConfigFile is pkg.toml: where pinned .debs are fetched from besides
// the mirror.
type pkgConfigFile struct {
	Caches    []string  `toml:"caches"`
	Push      []string  `toml:"push"`
	Snapshots *[]string `toml:"snapshots"` // absent: DefaultSnapshot; []: none
}

// PkgConfigPath is the pkg.toml in use: $UNIT_PKG_CONFIG, else
// $XDG_CONFIG_HOME/unit/pkg.toml (~/.config/unit/pkg.toml) if it exists,
// else /etc/unit/pkg.toml.
func PkgConfigPath() string {
	if p := os.Getenv("UNIT_PKG_CONFIG"); p != "" {
		return p
	}
	if d, err := os.UserConfigDir(); err == nil {
		p := filepath.Join(d, "unit", "pkg.toml")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/etc/unit/pkg.toml"
}

// PkgConfig reads PkgConfigPath() into the Options it sets: Caches, Push
// and Snapshots. A missing file is no caches, no push places and
// Debian's snapshot archive.
func PkgConfig() (Options, error) {
	return ReadPkgConfig(PkgConfigPath())
}

// ReadPkgConfig reads one pkg.toml; every problem is an error at its
// file:line.
func ReadPkgConfig(path string) (Options, error) {
	o := Options{Snapshots: []string{DefaultSnapshot}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("pkg config: %w", err)
	}
	var f pkgConfigFile
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var strict *toml.StrictMissingError
		var derr *toml.DecodeError
		switch {
		case errors.As(err, &strict) && len(strict.Errors) > 0:
			line, _ := strict.Errors[0].Position()
			return o, config.Error{Pos: config.Pos{File: path, Line: line},
				Msg: fmt.Sprintf("unknown key %q (want caches, push, snapshots)", strings.Join(strict.Errors[0].Key(), "."))}
		case errors.As(err, &derr):
			line, _ := derr.Position()
			return o, config.Error{Pos: config.Pos{File: path, Line: line}, Msg: derr.Error()}
		}
		return o, fmt.Errorf("%s: %w", path, err)
	}
	idx := config.IndexLines(data)
	at := func(key string, i int) config.Pos {
		line := idx.Line(key, strconv.Itoa(i))
		if line == 0 {
			line = 1
		}
		return config.Pos{File: path, Line: line}
	}
	for i, s := range f.Caches {
		p, err := cas.Parse(s)
		if err != nil {
			return o, config.Error{Pos: at("caches", i), Msg: err.Error()}
		}
		o.Caches = append(o.Caches, p)
	}
	for i, s := range f.Push {
		p, err := cas.Parse(s)
		if err != nil {
			return o, config.Error{Pos: at("push", i), Msg: err.Error()}
		}
		o.Push = append(o.Push, p)
	}
	if f.Snapshots != nil {
		o.Snapshots = []string{}
		for i, s := range *f.Snapshots {
			if err := checkSnapshot(s); err != nil {
				return o, config.Error{Pos: at("snapshots", i), Msg: err.Error()}
			}
			o.Snapshots = append(o.Snapshots, s)
		}
	}
	return o, nil
}

// checkSnapshot accepts an http(s) URL template with {time} in it.
func checkSnapshot(s string) error {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return fmt.Errorf("snapshot %q: want an http:// or https:// URL template", s)
	}
	if !strings.Contains(s, "{time}") {
		return fmt.Errorf("snapshot %q: no {time} (the lock's resolution time goes there)", s)
	}
	return nil
}
