//go:build builders

package main

import (
	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/image"
	"github.com/unit-os/unit/pkgbuild"
)

// loadSystem loads what unit check checks as the image build would: a
// service without exec from the unit file its package's keg ships. (No
// store is an error only for a system that needs one.)
func loadSystem(l config.Loader, load func(config.Loader) (*config.Config, error), _ []string) (*config.Config, error) {
	store, _ := pkgbuild.DefaultStore()
	return image.LoadSystem(l, store, load)
}

// systemPrograms says whether a program is in the kegs of packages.
func systemPrograms(packages []string) (func(string) bool, error) {
	store, err := pkgbuild.DefaultStore()
	if err != nil {
		return nil, err
	}
	kegs, err := pkgbuild.Closure(store, packages)
	if err != nil {
		return nil, err
	}
	return func(prog string) bool { return image.InKegs(kegs, prog) }, nil
}
