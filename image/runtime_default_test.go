package image

import (
	"log/slog"
	"testing"

	"github.com/unit-os/unit/pkgbuild"
)

// /etc/default/NAME of a named package is in the image (a unit file's
// EnvironmentFile= reads it); another package's, pulled in for what runs,
// and the rest of the init glue stay out.
func TestRuntimeKeepsEtcDefault(t *testing.T) {
	store := t.TempDir()
	app := makeDebKeg(t, store, debKeg{pkg: "app", conffiles: []string{"/etc/default/app"}, files: map[string]string{
		"usr/bin/app":       "/usr/bin/env",
		"etc/default/app":   "=DAEMON_OPTS=-v\n",
		"etc/init.d/app":    "=#!/bin/sh\n",
		"etc/cron.d/app":    "=* * * * * root true\n",
		"etc/default/sub/x": "=not a default file\n",
	}})
	kegs := []*pkgbuild.Keg{
		app,
		makeDebKeg(t, store, debKeg{pkg: "libc6", source: "glibc", files: map[string]string{
			"lib/x86_64-linux-gnu/libc.so.6": hostLib("libc.so.6"),
			"lib64/ld-linux-x86-64.so.2":     hostLib("ld-linux-x86-64.so.2"),
			"etc/default/libc":               "=X=1\n",
		}}),
	}
	cfg, _ := loadSystem(t, "[service.app]\nexec = [\"/usr/bin/app\"]\n")
	sel, err := selectDebs(cfg, slog.New(slog.DiscardHandler), kegs, map[string]bool{app.Dir: true}, baseEntries(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := names(sel.Entries)
	if !got["etc/default/app"] {
		t.Error("etc/default/app left out")
	}
	for _, not := range []string{"etc/init.d/app", "etc/cron.d/app", "etc/default/libc", "etc/default/sub/x"} {
		if got[not] {
			t.Errorf("%s taken", not)
		}
	}
}
