package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/unit-os/unit/config"
)

// ReleasePath is where an image says which release it is: one line, read
// by unit at boot (`unit status` shows it).
const ReleasePath = "usr/lib/unit/release"

// releaseID names what an image was built from, so a running machine can
// be traced to its description: "git:REV" (12 hex digits) of the
// repository that holds the system description, "-dirty+HASH" when the
// description or the recipes differ from that revision (HASH: 8 hex digits
// of the inputs, so two different dirty builds never share an id);
// outside git, "sha256:HASH" of the inputs. The inputs are the description,
// the recipes (with their locks) and the hashes of the kegs the image
// takes, which are pinned in the manifest beside it.
func releaseID(ctx context.Context, system, recipes string, kegs []string) string {
	paths := []string{system}
	if recipes != "" {
		paths = append(paths, recipes)
	}
	id, dirty := gitRelease(ctx, paths)
	switch {
	case id == "":
		return "sha256:" + hashInputs(system, recipes, kegs)[:12]
	case dirty:
		return id + "-dirty+" + hashInputs(system, recipes, kegs)[:8]
	}
	return id
}

// releaseName is the release id of an image packed at c: a release
// build's has "+release" after it, so the same inputs packed at another
// level (other bytes) never share an id.
func releaseName(id string, c compression) string {
	if c.Name == config.CompressionRelease {
		return id + "+release"
	}
	return id
}

// gitRelease is "git:REV" of the repository holding paths[0], and
// whether paths differ from it; "" outside git.
func gitRelease(ctx context.Context, paths []string) (id string, dirty bool) {
	if _, err := exec.LookPath("git"); err != nil {
		return "", false
	}
	dir := filepath.Dir(paths[0])
	rev, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "--quiet", "HEAD").Output()
	if err != nil || len(bytes.TrimSpace(rev)) < 12 {
		return "", false
	}
	args := append([]string{"-C", dir, "status", "--porcelain", "--untracked-files=normal", "--"}, absAll(paths)...)
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	if err != nil {
		return "", false // not tracked here (another repository's path): hash it
	}
	return "git:" + string(bytes.TrimSpace(rev))[:12], len(bytes.TrimSpace(out)) > 0
}

func absAll(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		out = append(out, p)
	}
	return out
}

// hashInputs hashes the description, the recipes' files (names and
// bytes, sorted) and the kegs' hashes (sorted).
func hashInputs(system, recipes string, kegs []string) string {
	h := sha256.New()
	add := func(name string) {
		b, err := os.ReadFile(name)
		if err != nil {
			return
		}
		h.Write([]byte(filepath.Base(name) + "\x00"))
		h.Write(b)
		h.Write([]byte{0})
	}
	add(system)
	if recipes != "" {
		var names []string
		for _, pat := range []string{"*.toml", "*.lock"} {
			m, _ := filepath.Glob(filepath.Join(recipes, pat))
			names = append(names, m...)
		}
		sort.Strings(names)
		for _, n := range names {
			add(n)
		}
	}
	for _, k := range slices.Sorted(slices.Values(kegs)) {
		h.Write([]byte("keg\x00" + k + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// releaseEntry is the release file in the image.
func releaseEntry(id string) entry {
	return entry{Name: ReleasePath, Mode: 0o644, Data: []byte(strings.TrimSpace(id) + "\n")}
}
