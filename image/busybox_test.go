package image

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseApplets(t *testing.T) {
	out := "usr/bin/[\nbin/ash\n\nsbin/init\nlinuxrc\n/abs/path\n../escape\nbin/ash\nbin/./sh\n"
	got := parseApplets([]byte(out))
	want := []string{"bin/ash", "bin/sh", "linuxrc", "sbin/init", "usr/bin/["}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestBusyboxEntriesSkipTaken(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "busybox")
	if err := os.WriteFile(bin, []byte("BB"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := &busybox{Path: bin, Applets: []string{"bin/sh", "init", "bin/unit", "bin/busybox", "sbin/init"}}
	es, err := b.entries(map[string]bool{"init": true, "bin/unit": true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "bin/busybox bin/sh sbin/init" {
		t.Fatalf("entries = %s", got)
	}
	if string(es[0].Data) != "BB" || string(es[1].Data) != "/bin/busybox" {
		t.Fatalf("entry data: %q %q", es[0].Data, es[1].Data)
	}
}
