package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/unit-os/unit/config"
	"github.com/unit-os/unit/declared"
	"github.com/unit-os/unit/pkgbuild"
)

// declareFormat is the version of the declarations' memo: a change to
// what Gather reads or makes must change it.
const declareFormat = 1

// declareCacheKeep is how many declaration results the cache keeps.
const declareCacheKeep = 16

// declareKey hashes what gather reads: the image's tree as materialise
// lays it out (every path and its type, links' targets, the declaration
// files' contents), the kegs (their declaration files and postinsts),
// the base accounts, the pin file, and the names the config uses and
// defines.
func declareKey(all []entry, kegs []*pkgbuild.Keg, acc accounts, pinsPath string, users, groups []declared.Need, cfg *config.Config) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "unit image declare %d\n", declareFormat)
	for _, e := range all {
		switch {
		case e.Mode&fs.ModeSymlink != 0 || e.Mode.IsRegular() && isDecl(path.Clean(strings.TrimPrefix(e.Name, "/"))):
			hashEntry(h, e)
		default:
			fmt.Fprintf(h, "%q %o\n", e.Name, uint32(e.Mode.Type()))
		}
	}
	for _, k := range kegs {
		fi, err := os.Stat(k.Dir)
		if err != nil {
			return "", fmt.Errorf("package %s: %w", k.Name, err)
		}
		fmt.Fprintf(h, "keg %q %q\n", k.Dir, k.Hash)
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			fmt.Fprintf(h, "%d:%d\n", st.Dev, st.Ino)
		}
		if err := writeJSON(h, k.Deb); err != nil {
			return "", err
		}
	}
	pins, err := os.ReadFile(pinsPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("load %s: %w", pinsPath, err)
	}
	in := struct {
		Passwd, Group string
		Pins          []byte
		PinsMissing   bool
		Users, Groups []declared.Need
		Defined       [2][]string
	}{acc.passwd, acc.group, pins, err != nil, users, groups, [2][]string{sortedKeys(cfg.Users), sortedKeys(cfg.Groups)}}
	if err := writeJSON(h, in); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
