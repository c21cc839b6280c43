package config

import (
	"strings"
	"testing"
)

func TestMatchPathGlob(t *testing.T) {
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"/usr/share/doc", "/usr/share/doc", true},
		{"/usr/share/doc", "/usr/share/doc/hello/copyright", true}, // a directory above matches
		{"/usr/share/doc", "/usr/share/docs/x", false},
		{"/usr/share/doc", "/usr/share", false},
		{"/etc/rc?.d", "/etc/rc3.d/S01x", true},
		{"/etc/rc?.d", "/etc/rcS1.d/x", false},
		{"/etc/cron.*", "/etc/cron.daily/job", true},
		{"/usr/lib/*/lib/llvmjit*", "/usr/lib/pg/lib/llvmjit.so", true},
		{"/usr/lib/*/llvmjit*", "/usr/lib/a/b/llvmjit.so", false}, // * does not cross /
		{"/a/[", "/a/[", false},                                   // a bad pattern matches nothing
	} {
		if got := MatchPathGlob(tc.glob, tc.path); got != tc.want {
			t.Errorf("MatchPathGlob(%q, %q) = %v, want %v", tc.glob, tc.path, got, tc.want)
		}
	}
}

func TestCheckPathGlob(t *testing.T) {
	for _, good := range []string{"/usr/share/zoneinfo/UTC", "/usr/lib/postgresql/*/lib/llvmjit*", "/etc/rc?.d"} {
		if err := CheckPathGlob(good); err != nil {
			t.Errorf("CheckPathGlob(%q) = %v, want nil", good, err)
		}
	}
	for _, bad := range []string{"", "/", "usr/share", "/usr/../etc", "/usr/share/", "/usr//share", "/a/[", "/a/./b"} {
		if err := CheckPathGlob(bad); err == nil {
			t.Errorf("CheckPathGlob(%q) = nil, want an error", bad)
		}
	}
}

func TestSystemGlobErrors(t *testing.T) {
	_, err := loadString(t, "[system]\ninclude = [\"/ok\"]\nexclude = [\"rel/*\"]\n")
	if err == nil {
		t.Fatal("exclude with a relative glob: no error")
	}
	for _, w := range []string{"a.toml:3:", `exclude "rel/*"`, "clean absolute path pattern"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	_, err = loadString(t, "[system]\ninclude = [\"/a/[\"]\n")
	if err == nil || !strings.Contains(err.Error(), "a.toml:2:") || !strings.Contains(err.Error(), "bad pattern") {
		t.Errorf("include with a bad pattern: err = %v", err)
	}
}
