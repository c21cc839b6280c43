package image

import "testing"

func TestParseKernelDepends(t *testing.T) {
	out := "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n"
	got, err := parseKernelDepends([]byte(out), kernelMeta)
	if err != nil || got != "linux-image-6.1.0-56-cloud-amd64" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := parseKernelDepends([]byte("linux-image-cloud-amd64\n"), kernelMeta); err == nil {
		t.Fatal("no error without a Depends line")
	}
}

func TestCacheName(t *testing.T) {
	if got := cacheName("1:1.35.0-4"); got != "1%3a1.35.0-4" {
		t.Fatalf("cacheName = %q", got)
	}
}
