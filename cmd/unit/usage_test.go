package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// commandPaths are every command ("logs"), a group that unit parses
// itself by its subcommands ("pkg build", "image run": those with args).
func commandPaths() []string {
	var out []string
	for _, c := range commands() {
		if len(c.sub) == 0 || c.sub[0].args == "" {
			out = append(out, c.names[0])
			continue
		}
		for _, s := range c.sub { // "unit pkg build|ls|..." lists these
			out = append(out, c.names[0]+" "+s.names[0])
		}
	}
	return out
}

// synopses are the synopses of commandPaths.
func synopses(t *testing.T) []string {
	var out []string
	for _, p := range commandPaths() {
		syn, ok := synopsis(p)
		if !ok {
			t.Fatalf("no synopsis for %s", p)
		}
		out = append(out, syn)
	}
	return out
}

// TestDocsSynopses: docs/cli.md's table of commands shows every synopsis
// of the command table, as `unit help` and --help show it, and no other,
// so the docs and the program cannot drift apart.
func TestDocsSynopses(t *testing.T) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Commands\n")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("docs/cli.md has no ## Commands section")
	}
	code := regexp.MustCompile("`([^`]+)`")
	documented := map[string]bool{}
	for _, line := range strings.Split(doc[start:start+1+end], "\n") {
		if !strings.HasPrefix(line, "| `unit ") {
			continue
		}
		first, _, _ := strings.Cut(line[2:], " | ") // `\|` in a cell has no spaces around it
		for _, m := range code.FindAllStringSubmatch(first, -1) {
			documented[strings.ReplaceAll(m[1], `\|`, "|")] = true
		}
	}
	want := append(synopses(t), machineUsage)
	for _, syn := range want {
		if !documented[syn] {
			t.Errorf("docs/cli.md does not show `%s`", syn)
		}
	}
	for syn := range documented {
		if !slices.Contains(want, syn) {
			t.Errorf("docs/cli.md shows `%s`, which is no synopsis of the command table", syn)
		}
	}
}

// TestHelpFromTable: unit COMMAND --help starts with the table's synopsis
// and lists each flag with its argument named as the synopsis names it;
// every flag is in the synopsis (but --socket, common to the commands that
// talk to the daemon); no usage shows a back-quoted word, which flag's
// PrintDefaults would take for the argument's name ("-sha256 unit image
// build").
func TestHelpFromTable(t *testing.T) {
	flagLine := regexp.MustCompile(`^  (-{1,2}[a-z0-9-]+)(?: (\S+))?$`)
	for _, path := range commandPaths() {
		syn, _ := synopsis(path)
		if c, _ := lookup(path); path == "help" || len(c.sub) > 0 && path != "completion" {
			continue // groups: TestGroupHelp; fleet's are unit-fleet's own
		}
		out, err := exec.Command(unitBin, append(strings.Fields(path), "--help")...).Output()
		if err != nil {
			t.Errorf("unit %s --help: %v", path, err)
			continue
		}
		lines := strings.Split(string(out), "\n")
		if lines[0] != "usage: "+syn && !strings.HasPrefix(lines[0], "usage: "+syn+"   ") {
			t.Errorf("unit %s --help starts %q, want %q", path, lines[0], "usage: "+syn)
		}
		if strings.Contains(string(out), "`") {
			t.Errorf("unit %s --help shows a back-quote:\n%s", path, out)
		}
		for _, l := range lines[1:] {
			m := flagLine.FindStringSubmatch(l)
			if m == nil || m[1] == "--socket" {
				continue
			}
			spelled := m[1]
			if m[2] != "" {
				spelled += " " + m[2]
			}
			if !regexp.MustCompile(`(^|[\s\[])` + regexp.QuoteMeta(spelled) + `($|[\s\]])`).MatchString(syn) {
				t.Errorf("unit %s --help lists %q, which its synopsis %q does not show", path, spelled, syn)
			}
		}
	}
}
