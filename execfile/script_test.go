package execfile

import (
	"slices"
	"testing"
)

func TestScriptInterp(t *testing.T) {
	for head, want := range map[string][]string{
		"#!/bin/sh -e\necho\n":     {"/bin/sh", "-e"},
		"#! /usr/bin/env  python3": {"/usr/bin/env", "python3"},
		"#!\n/bin/sh\n":            nil,
		"\x7fELF":                  nil,
	} {
		interp, args, ok := ScriptInterp([]byte(head))
		if ok != (want != nil) || (ok && !slices.Equal(append([]string{interp}, args...), want)) {
			t.Errorf("%q: %q %q %v, want %q", head, interp, args, ok, want)
		}
	}
}
