package cm

import (
	"slices"
	"testing"
)

func TestPathIndexOneAndShared(t *testing.T) {
	x := newPathIndex()
	get := func(p string) []string {
		var out []string
		x.ids(p, func(id string) { out = append(out, id) })
		return out
	}
	x.add("/a", "file:/a")
	x.add("/a", "file:/a") // again: no duplicate
	x.add("/s", "file:/t")
	x.add("/s", "dir:/u")
	x.add("/s", "link:/v")
	if got := get("/a"); !slices.Equal(got, []string{"file:/a"}) {
		t.Fatalf("/a: %v", got)
	}
	if got := get("/s"); !slices.Equal(got, []string{"file:/t", "dir:/u", "link:/v"}) {
		t.Fatalf("/s: %v", got)
	}
	x.remove("/s", "dir:/u")
	x.remove("/s", "link:/v")
	if got := get("/s"); !slices.Equal(got, []string{"file:/t"}) || len(x.more) != 0 || x.one["/s"] != "file:/t" {
		t.Fatalf("/s back to one id: %v %v", got, x.more)
	}
	x.remove("/a", "file:/other") // not its id: kept
	x.remove("/a", "file:/a")
	n := 0
	x.each(func(p, id string) { n++ })
	if len(get("/a")) != 0 || n != 1 {
		t.Fatalf("after removes: /a %v, %d entries", get("/a"), n)
	}
}
