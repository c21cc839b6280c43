package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// ReleasePath is where an image says which release it is: one line, read
// by unit at boot (`unit status` shows it).
const ReleasePath = "usr/lib/unit/release"

// releaseID names what an image was built from, so a running machine can
// be traced to its description: "git:REV" (12 hex digits) of the
// repository that holds the system description, "-dirty" when the
// description or the recipes differ from that revision; outside git,
// "sha256:HASH" of the description and the recipes (with their locks).
// The kegs and Debian packages are pinned in the manifest beside it.
func releaseID(ctx context.Context, system, recipes string) string {
	paths := []string{system}
	if recipes != "" {
		paths = append(paths, recipes)
	}
	if id := gitRelease(ctx, paths); id != "" {
		return id
	}
	return "sha256:" + hashInputs(system, recipes)[:12]
}

func gitRelease(ctx context.Context, paths []string) string {
	if _, err := exec.LookPath("git"); err != nil {
		return ""
	}
	dir := filepath.Dir(paths[0])
	rev, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "--quiet", "HEAD").Output()
	if err != nil || len(bytes.TrimSpace(rev)) < 12 {
		return ""
	}
	id := "git:" + string(bytes.TrimSpace(rev))[:12]
	args := append([]string{"-C", dir, "status", "--porcelain", "--untracked-files=normal", "--"}, absAll(paths)...)
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	if err != nil {
		return "" // not tracked here (another repository's path): hash it
	}
	if len(bytes.TrimSpace(out)) > 0 {
		id += "-dirty"
	}
	return id
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

// hashInputs hashes the description and the recipes' files (names and
// bytes, sorted), as the release of a build outside git.
func hashInputs(system, recipes string) string {
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
	return hex.EncodeToString(h.Sum(nil))
}

// releaseEntry is the release file in the image.
func releaseEntry(id string) entry {
	return entry{Name: ReleasePath, Mode: 0o644, Data: []byte(strings.TrimSpace(id) + "\n")}
}
