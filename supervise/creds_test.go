package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unit-os/unit/config"
)

// procStatus returns the lines of the service's own /proc/PID/status (sh
// prints its own with $$) that start with one of keys.
func procLines(h *harness, name string, keys ...string) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, k := range keys {
		line := h.waitLog(name, func(s string) bool { return strings.HasPrefix(s, k+":") })
		out[k] = strings.TrimSpace(strings.TrimPrefix(line, k+":"))
	}
	return out
}

func TestCredentialsGroupsCaps(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"c": {Exec: sh("grep -E '^(Uid|Gid|Groups|CapAmb|CapEff):' /proc/$$/status; exec sleep 100"),
			User: "nobody", Groups: []string{"adm", "daemon"}, Capabilities: []string{"CAP_NET_BIND_SERVICE"}},
	})
	got := procLines(h, "c", "Uid", "Groups", "CapAmb", "CapEff")
	if !strings.HasPrefix(got["Uid"], "65534") {
		t.Errorf("Uid %q", got["Uid"])
	}
	if got["Groups"] != "1 4" {
		t.Errorf("Groups %q, want 1 4", got["Groups"])
	}
	// CAP_NET_BIND_SERVICE is bit 10.
	if got["CapAmb"] != "0000000000000400" || got["CapEff"] != "0000000000000400" {
		t.Errorf("CapAmb %q CapEff %q, want 0000000000000400", got["CapAmb"], got["CapEff"])
	}
}

func TestCredentialsUmaskNoNewPrivsRlimits(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	h.set(map[string]*config.Service{
		"s": {Exec: sh("grep -E '^(Umask|NoNewPrivs):' /proc/$$/status; grep -E '^Max (open files|core)' /proc/$$/limits; touch " + dir + "/f; exec sleep 100"),
			Umask: "0027", NoNewPrivs: true, Rlimits: map[string]int64{"nofile": 1024, "core": 0}},
	})
	got := procLines(h, "s", "Umask", "NoNewPrivs")
	if got["Umask"] != "0027" || got["NoNewPrivs"] != "1" {
		t.Errorf("Umask %q NoNewPrivs %q", got["Umask"], got["NoNewPrivs"])
	}
	nofile := strings.Fields(h.waitLog("s", func(s string) bool { return strings.HasPrefix(s, "Max open files") }))
	if len(nofile) < 5 || nofile[3] != "1024" || nofile[4] != "1024" {
		t.Errorf("open files limit: %v", nofile)
	}
	core := strings.Fields(h.waitLog("s", func(s string) bool { return strings.HasPrefix(s, "Max core") }))
	if len(core) < 6 || core[4] != "0" || core[5] != "0" { // "Max core file size 0 0 bytes"
		t.Errorf("core limit: %v", core)
	}
	eventually(t, "file created", func() bool { _, err := os.Stat(filepath.Join(dir, "f")); return err == nil })
	if st, _ := os.Stat(filepath.Join(dir, "f")); st.Mode().Perm() != 0o640 {
		t.Errorf("file made under umask 0027 has mode %v", st.Mode().Perm())
	}
}

func TestEnvFiles(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "web.env")
	if err := os.WriteFile(f, []byte("# comment\nexport A=from-file\nB=\"quoted value\"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.set(map[string]*config.Service{
		"e": {Exec: sh("echo \"A=$A B=$B C=$C\"; exec sleep 100"), Env: map[string]string{"A": "from-env", "C": "c"},
			EnvFiles: []string{f, "-" + filepath.Join(dir, "missing.env")}},
		"bad": {Exec: []string{"true"}, EnvFiles: []string{filepath.Join(dir, "missing.env")}, Restart: config.RestartNever},
	})
	h.waitLog("e", func(s string) bool { return s == "A=from-file B=quoted value C=c" })
	_, e := h.rec.waitFrom(t, 0, "bad", "backoff")
	if !strings.Contains(e.Message, "missing.env") {
		t.Errorf("missing env file reported as %q", e.Message)
	}
}

func TestReadEnvFileError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.env")
	os.WriteFile(f, []byte("A=1\nnot a pair\n"), 0o644)
	err := readEnvFile(f, map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "x.env:2: expected KEY=VALUE") {
		t.Errorf("got %v", err)
	}
}
