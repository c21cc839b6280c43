package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A mistyped command exits 2 and names the command meant: a transposed
// pair is one edit ("stauts" is status, not start), and equally close
// commands are all offered.
func TestUnknownCommandSuggests(t *testing.T) {
	for typo, want := range map[string]string{
		"staus":      `unknown command "staus" (did you mean status?); unit help lists them`,
		"stauts":     `(did you mean status?)`,
		"restrat":    `(did you mean restart?)`,
		"checkz":     `(did you mean check or checks?)`,
		"xyzzy-frob": `unknown command "xyzzy-frob"; unit help`,
	} {
		out, err := exec.Command(unitBin, typo).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), want) {
			t.Errorf("unit %s: %v\n%s\nwant exit 2 and %q", typo, err, out, want)
		}
	}
}

// unit help lists every command of the table, and the completion script
// completes from the same table in a real bash.
func TestHelpAndCompletionFromTable(t *testing.T) {
	help, err := exec.Command(unitBin, "help").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(string(help), "\n  "+c.names[0]) {
			t.Errorf("unit help does not list %s", c.names[0])
		}
	}
	script, err := exec.Command(unitBin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "unit.bash")
	if err := os.WriteFile(f, script, 0o644); err != nil {
		t.Fatal(err)
	}
	for words, want := range map[string]string{"unit pk": "pkg", "unit pkg up": "update", "unit image b": "build", "unit rest": "restart"} {
		w := strings.Fields(words)
		sh := `source ` + f + `; COMP_WORDS=(` + words + `); COMP_CWORD=` + itoa(len(w)-1) + `; _unit; echo "${COMPREPLY[@]}"`
		out, err := exec.Command("bash", "-c", sh).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("completing %q: %v %q, want %q", words, err, out, want)
		}
	}
	if _, err := exec.Command(unitBin, "completion", "fish").Output(); err == nil {
		t.Error("unit completion fish succeeded; only bash and zsh are made")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// unit check takes files and directories, and --json gives the errors with
// file and line for a program.
func TestCheckFilesAndJSON(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(good, []byte("[service.a]\nexec = [\"/bin/true\"]\n"), 0o644)
	os.WriteFile(bad, []byte("[service.b]\nexec = [\"/bin/true\"]\nrestart = \"sometimes\"\n"), 0o644)

	if out, err := exec.Command(unitBin, "check", good).CombinedOutput(); err != nil || !strings.Contains(string(out), "ok (1 services") {
		t.Errorf("unit check good.toml: %v\n%s", err, out)
	}
	out, err := exec.Command(unitBin, "check", "--json", bad).Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("unit check --json bad.toml: %v, want exit 1", err)
	}
	var res struct {
		OK     bool `json:"ok"`
		Errors []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.OK || len(res.Errors) != 1 || res.Errors[0].File != bad || res.Errors[0].Line != 3 || !strings.Contains(res.Errors[0].Message, `restart = "sometimes"`) {
		t.Errorf("unit check --json: %s", out)
	}
	// A directory is its *.toml files: both, so the error is there too.
	if out, err := exec.Command(unitBin, "check", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), "bad.toml:3:") {
		t.Errorf("unit check DIR: %v\n%s", err, out)
	}
}

// On a host, what only the target system can answer (a user, a program)
// is a warning: unit check still exits 0.
func TestCheckHostWarnings(t *testing.T) {
	f := filepath.Join(t.TempDir(), "a.toml")
	os.WriteFile(f, []byte("[service.a]\nexec = [\"no-such-program-here\"]\nuser = \"no-such-user-here\"\n"), 0o644)
	out, err := exec.Command(unitBin, "check", f).CombinedOutput()
	if err != nil {
		t.Fatalf("unit check: %v\n%s", err, out)
	}
	for _, want := range []string{`warning: ` + f + `:1: service.a.user: user "no-such-user-here" is not on this system`, `service.a.exec: no-such-program-here is not on this system`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// unit man is made from the same table, and renders.
func TestManPage(t *testing.T) {
	out, err := exec.Command(unitBin, "man").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.HasPrefix(c.names[0], "-") && !strings.Contains(string(out), "\n.B "+strings.ReplaceAll(c.names[0], "-", `\-`)) {
			t.Errorf("unit man lacks %s", c.names[0])
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Log("no groff: rendering not checked")
		return
	}
	cmd := exec.Command(groff, "-man", "-Tascii", "-P-cbou", "-ww")
	cmd.Stdin = strings.NewReader(string(out))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	page, err := cmd.Output()
	if err != nil || stderr.Len() > 0 || !strings.Contains(string(page), "EXIT STATUS") {
		t.Errorf("groff: %v\n%s\n%s", err, stderr.String(), page)
	}
}

// zsh gets the bash completion through bashcompinit.
func TestCompletionZsh(t *testing.T) {
	out, err := exec.Command(unitBin, "completion", "zsh").Output()
	if err != nil || !strings.HasPrefix(string(out), "#compdef unit\nautoload -U +X bashcompinit && bashcompinit\n") || !strings.Contains(string(out), "complete -F _unit unit") {
		t.Errorf("unit completion zsh: %v\n%s", err, out)
	}
}

// TestFleetRunsUnitFleet: `unit fleet ...` becomes the unit-fleet beside
// unit (unit-fleet-server for serve, token and user), with the arguments
// as given; without one it says where to get it.
func TestFleetRunsUnitFleet(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "unit")
	b, err := os.ReadFile(unitBin)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, b, 0o755)
	cmd := exec.Command(bin, "fleet", "check", "--where", "role=web")
	cmd.Env = append(os.Environ(), "PATH=/nonexistent")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "needs the unit-fleet program: unit-fleet is neither beside "+bin+" nor in PATH (make fleet puts it beside unit)") {
		t.Errorf("without unit-fleet: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "unit-fleet"), []byte("#!/bin/sh\necho \"$0|$*\"\n"), 0o755)
	out, err := exec.Command(bin, "fleet", "check", "--where", "role=web").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != filepath.Join(dir, "unit-fleet")+"|check --where role=web" {
		t.Errorf("with unit-fleet: %v %q", err, out)
	}
	os.WriteFile(filepath.Join(dir, "unit-fleet-server"), []byte("#!/bin/sh\necho \"$0|$*\"\n"), 0o755)
	out, err = exec.Command(bin, "fleet", "token", "--group", "web").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != filepath.Join(dir, "unit-fleet-server")+"|token --group web" {
		t.Errorf("the broker's commands go to unit-fleet-server: %v %q", err, out)
	}
}
