package mountinfo

import "testing"

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`: "/mnt/a b",
		`/a\011\134z`: "/a\t\\z",
		`/plain`:      "/plain",
		`/bad\09x`:    `/bad\09x`, // not octal: kept
		`/end\04`:     `/end\04`,  // too short: kept
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPoints(t *testing.T) {
	text := "22 1 0:21 / / rw - overlay overlay rw\n" +
		"23 22 0:5 / /mnt/my\\040disk rw - ext4 /dev/vda2 rw\n\nshort line\n"
	got := Points(text)
	if len(got) != 2 || !got["/"] || !got["/mnt/my disk"] {
		t.Fatalf("Points = %v", got)
	}
}
