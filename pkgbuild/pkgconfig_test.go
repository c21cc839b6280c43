package pkgbuild

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPkgConfig(t *testing.T) {
	dir := t.TempDir()
	o, err := ReadPkgConfig(filepath.Join(dir, "absent.toml"))
	if err != nil || len(o.Caches) != 0 || !reflect.DeepEqual(o.Snapshots, []string{DefaultSnapshot}) {
		t.Fatalf("absent file: %+v, %v", o, err)
	}
	writeFiles(t, dir, map[string]string{
		"ok.toml":   "caches = [\"/srv/c\", \"https://c.example/unit\", \"nats://fleet/unit-content\"]\npush = [\"file:///srv/c\"]\nsnapshots = []\n",
		"bad.toml":  "caches = [\n  \"/srv/c\",\n  \"relative\",\n]\n",
		"key.toml":  "\ncaches = []\nmirrors = []\n",
		"snap.toml": "snapshots = [\"https://s.example/{archive}\"]\n",
	})
	o, err = ReadPkgConfig(filepath.Join(dir, "ok.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range o.Caches {
		names = append(names, c.String())
	}
	if want := []string{"dir /srv/c", "https://c.example/unit", "nats://fleet/unit-content"}; !reflect.DeepEqual(names, want) || len(o.Push) != 1 || o.Push[0].String() != "dir /srv/c" || o.Snapshots == nil || len(o.Snapshots) != 0 {
		t.Fatalf("read %v push %v snapshots %#v", names, o.Push, o.Snapshots)
	}
	for file, want := range map[string]string{
		"bad.toml":  "bad.toml:3: place \"relative\"",
		"key.toml":  "key.toml:3: unknown key \"mirrors\"",
		"snap.toml": "snap.toml:1: snapshot \"https://s.example/{archive}\": no {time}",
	} {
		_, err := ReadPkgConfig(filepath.Join(dir, file))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}
