package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/fleettest"
)

// contentBroker is a development broker (no credentials) with the
// fleet's buckets, and its URL as pkg.toml would name its content store.
func contentBroker(t *testing.T) string {
	t.Helper()
	nc := fleettest.Broker(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.EnsureBuckets(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNIT_FLEET_CREDS", filepath.Join(t.TempDir(), "none.creds"))
	return nc.ConnectedUrl() + "/" + fleet.ContentBucket
}

func randomBlob(n int) ([]byte, string) {
	b := make([]byte, n)
	rand.Read(b)
	h := sha256.Sum256(b)
	return b, hex.EncodeToString(h[:])
}

// contentRun runs `unit-fleet content ARGS...` with stdin in and returns
// its stdout, stderr and error.
func contentRun(t *testing.T, in []byte, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runContent(context.Background(), args, bytes.NewReader(in), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestContentHelper: unit's helper protocol: put reads the blob from
// stdin, get writes it to stdout; a blob the store lacks is exit 3 with
// a message on stderr; bytes that do not hash to the name are refused
// and not stored (get is still exit 3).
func TestContentHelper(t *testing.T) {
	url := contentBroker(t)
	data, sum := randomBlob(200 << 10)
	if _, errOut, err := contentRun(t, nil, "get", url, sum); err != exitError(notFound) || !strings.Contains(errOut, "not found") {
		t.Fatalf("get of a missing blob: %v, stderr %q; want exit 3 and a message", err, errOut)
	}
	other, _ := randomBlob(1000)
	if _, _, err := contentRun(t, other, "put", url, sum); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("put of bytes that are not SUM's: %v", err)
	}
	if _, _, err := contentRun(t, nil, "get", url, sum); err != exitError(notFound) {
		t.Fatalf("get after a refused put: %v, want exit 3", err)
	}
	if _, _, err := contentRun(t, data, "put", url, sum); err != nil {
		t.Fatal(err)
	}
	// Again: the store has it; stdin is still taken whole.
	if _, _, err := contentRun(t, data, "put", url, sum); err != nil {
		t.Fatal(err)
	}
	out, _, err := contentRun(t, nil, "get", url, sum)
	if err != nil || out != string(data) {
		t.Fatalf("get: %d bytes, %v; want the %d put", len(out), err, len(data))
	}
	if _, _, err := contentRun(t, nil, "get", url, "NOTASUM"); err == nil || errors.Is(err, exitError(notFound)) {
		t.Errorf("get of a name that is not a sha256: %v, want an error other than exit 3", err)
	}
	if _, _, err := contentRun(t, nil, "get", "https://cache.example", sum); err == nil || err == exitError(notFound) {
		t.Errorf("get from a URL that is not nats: %v", err)
	}
}

// TestContentPush: push sends what the store lacks from a directory of
// blobs named by their sums (a second push sends nothing), skips names
// that are not sums, names a file whose bytes are not its name's and
// stores nothing for it; ls lists what is there.
func TestContentPush(t *testing.T) {
	url := contentBroker(t)
	dir := t.TempDir()
	a, sa := randomBlob(1000)
	b, sb := randomBlob(300 << 10)
	_, sc := randomBlob(10)
	for name, data := range map[string][]byte{sa: a, sb: b, sc: []byte("not c"), "README": []byte("x")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, err := contentRun(t, nil, "push", url, dir)
	if err == nil || !strings.Contains(errOut, sc) || !strings.Contains(errOut, "refused") {
		t.Errorf("push with a wrong blob: %v, stderr %q", err, errOut)
	}
	if want := "pushed 2 (" + strconv.Itoa(len(a)+len(b)) + " bytes), present 0, skipped 1 "; !strings.Contains(out, want) {
		t.Errorf("push said %q, want %q", out, want)
	}
	os.Remove(filepath.Join(dir, sc))
	if out, _, err := contentRun(t, nil, "push", url, dir); err != nil || !strings.Contains(out, "pushed 0 (0 bytes), present 2,") {
		t.Errorf("second push: %q %v", out, err)
	}
	out, _, err = contentRun(t, nil, "ls", url)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 2 || !strings.Contains(out, sa+" 1000\n") || !strings.Contains(out, sb+" "+strconv.Itoa(len(b))+"\n") {
		t.Errorf("ls: %q %v", out, err)
	}
}
