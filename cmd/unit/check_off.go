//go:build !builders

package main

import (
	"errors"
	"fmt"

	"github.com/unit-os/unit/config"
)

// loadSystem loads what unit check checks. A system with [system]
// packages, or a service without exec (its keys from a package's unit
// file), needs the store, which is the builders' to read: unit-build
// checks it when it is here (a host). Where it is not (a machine), a
// service without exec is an error, and the packages' programs are not
// looked in (systemPrograms).
func loadSystem(l config.Loader, load func(config.Loader) (*config.Config, error), args []string) (*config.Config, error) {
	declared := ""
	l.Declared = func(name string) (*config.Service, []config.Note, error) {
		if declared == "" {
			declared = name
		}
		return &config.Service{Exec: []string{"/bin/true"}}, nil, nil
	}
	cfg, err := load(l)
	if err != nil || (declared == "" && len(cfg.System.Packages) == 0) {
		return cfg, err
	}
	if _, _, perr := builderProgram(); perr == nil {
		return nil, execBuilder(append([]string{"check"}, args...))
	} else if declared != "" {
		return nil, fmt.Errorf("service.%s has no exec: its keys come from the unit file its package ships, and unit check %w", declared, perr)
	}
	return cfg, nil
}

// systemPrograms: without unit-build the kegs are not looked in.
func systemPrograms([]string) (func(string) bool, error) {
	return nil, errors.New(builderName + " (the builders, which read the store) is neither beside unit nor in PATH")
}
