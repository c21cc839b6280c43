package translate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/systemd/syntax"
	"github.com/unit-os/unit/systemd/unitfile"
)

// Result is one service's unit file, translated.
type Result struct {
	// Service is the [service.NAME] the unit file declares; At(key)
	// names the unit file's line of each key (config.Meta.Declare).
	Service *config.Service
	// Notes are what unit does not honour, each at its line.
	Notes []config.Note
	// Files are the guest paths read: the unit file, its drop-ins and
	// the links followed to them. A system that translates the unit at
	// boot needs exactly these.
	Files []string
}

// Service translates the unit file of the service name ("haproxy", or
// "foo@bar" for the template foo@.service with %i = bar) under root, with
// its drop-ins. No unit file is nil, nil. Errors in the unit file are
// config.Errors at their lines.
func Service(root, name string) (*Result, error) {
	unit := name + ".service"
	if _, err := unitfile.ParseName(unit); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("unit files: %w", err)
	}
	defer r.Close()
	rd := &reader{root: r}
	f, err := rd.find(unit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", unit, err)
	}
	// An alias is a link to the unit: the unit's own name is the file's
	// (its %n, its drop-ins), unless the file is the template of name.
	own := unit
	if base := path.Base(f.real); base != unit {
		if t, ok := unitfile.TemplateOf(unit); !ok || t != base {
			own = base
		}
	}
	names := []string{unit}
	if own != unit {
		names = append(names, own)
	}
	if t, ok := unitfile.TemplateOf(own); ok {
		names = append(names, t)
	}
	drops, err := rd.dropins(names...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", unit, err)
	}
	files := []string{f.real}
	uf, err := unitfile.Parse(f.real, f.data)
	if err != nil {
		return nil, err
	}
	var parsed []*unitfile.File
	for _, d := range drops {
		p, err := unitfile.Parse(d.real, d.data)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, p)
		files = append(files, d.real)
	}
	us, err := unitfile.Merge(uf, parsed...).Service(own, syntax.System())
	if err != nil {
		return nil, err
	}
	s, notes, err := translate(us, f.real, r)
	if err != nil {
		return nil, err
	}
	return &Result{Service: s, Notes: notes, Files: append(files, rd.links...)}, nil
}

// Declared is a config.Loader.Declared that translates the unit files
// under root.
func Declared(root string) func(name string) (*config.Service, []config.Note, error) {
	return func(name string) (*config.Service, []config.Note, error) {
		res, err := Service(root, name)
		if err != nil || res == nil {
			return nil, nil, err
		}
		return res.Service, res.Notes, nil
	}
}
