package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Error is one problem in the configuration, at a place.
type Error struct {
	Pos Pos
	Msg string
}

func (e Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errors is every problem found; Load reports all of them, not just the first.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Loader loads configs; its fields say where unit's own helpers are for
// the services [web] and [fleet] add. The zero value is an image's: PID 1
// is /bin/unit and the image builder puts /bin/unit-fleet beside it. On a
// host the daemon and `unit check` name the running binary and find
// unit-fleet, since neither is in /bin there.
type Loader struct {
	// Unit is the unit program [web] runs as `Unit web`; "" is /bin/unit.
	Unit string
	// Fleet finds the unit-fleet program when [fleet] agent = true; nil
	// is /bin/unit-fleet. Its error is reported at the agent key.
	Fleet func() (string, error)
	// Declared finds what a package declares for a [service.NAME] with
	// no exec: its systemd unit file translated (systemd/translate), and
	// what of it unit does not honour. A nil service is no unit file.
	// The table's own keys win over the declared ones (Service.Merge).
	// Without it, exec is required.
	Declared func(name string) (*Service, []Note, error)
	// Vendor is the directory of the vendor layer (VendorDir on a
	// machine), loaded below the files given; "" is none.
	Vendor string
}

// Load reads every *.toml in dir, merged in name order, and validates the
// result as a whole, as an image's config.
func Load(dir string) (*Config, error) { return Loader{}.Load(dir) }

// LoadFiles merges the named files in the order given and validates the
// result, as an image's config.
func LoadFiles(paths ...string) (*Config, error) { return Loader{}.LoadFiles(paths...) }

// Load reads every *.toml in dir, merged in name order over the vendor
// layer and under dir's fleet layers, and validates the result as a whole.
func (l Loader) Load(dir string) (*Config, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("load %s: no *.toml files", dir)
	}
	sort.Strings(paths)
	files, err := vendorFiles(l.Vendor)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		files = append(files, rankedPath{path: p})
	}
	layers, err := layerFiles(dir)
	if err != nil {
		return nil, err
	}
	return l.loadRanked(append(files, layers...))
}

// LoadFiles merges the named files in the order given (above the vendor
// layer) and validates the result.
func (l Loader) LoadFiles(paths ...string) (*Config, error) {
	files, err := vendorFiles(l.Vendor)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		files = append(files, rankedPath{path: p})
	}
	return l.loadRanked(files)
}

// loadRanked merges files, a higher rank's definitions replacing a lower
// one's (layers.go), and validates the result.
func (l Loader) loadRanked(files []rankedPath) (*Config, error) {
	c := &Config{ranks: map[string]int{}, declared: l.Declared}
	defer func() { c.declared = nil }()
	tables := rows().tables
	for _, t := range tables {
		t.init(c)
	}
	var errs Errors
	for _, f := range files {
		path := f.path
		c.rank = f.rank
		data, err := readConfig(path)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		c.Sources = append(c.Sources, path)
		doc, keys, ferrs := parse(path, data)
		errs = append(errs, ferrs...)
		if !doc.IsValid() {
			continue
		}
		for i, t := range tables {
			errs = append(errs, t.load(c, doc.Field(i), keys)...)
		}
	}
	errs = append(errs, addConsole(c)...)
	errs = append(errs, addWeb(c, l.Unit)...)
	errs = append(errs, addFleet(c, l.Fleet)...)
	pruneDeclaredRequires(c)
	errs = append(errs, validateRefs(c)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			a, b := errs[i].Pos, errs[j].Pos
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Line < b.Line
		})
		return nil, errs
	}
	c.dropKeyPositions()
	return c, nil
}

// parse decodes one file strictly into a document (a struct of docType, a
// field per table); unknown keys are errors with a suggestion. The
// document is invalid when nothing could be decoded, or when the file
// exceeds a limit (limits.go): then it is not decoded at all.
func parse(path string, data []byte) (reflect.Value, *fileKeys, Errors) {
	keys := &fileKeys{file: path, data: data}
	plan, errs := scanFile(path, data)
	if len(errs) > 0 {
		return reflect.Value{}, nil, errs
	}
	if cuts, lines := plan.cuts(); cuts != nil {
		if doc, ok := decodeChunks(data, cuts); ok {
			keys.resources = lines
			return doc, keys, nil
		}
	}
	doc, errs := decodeWhole(path, data, keys)
	return doc, keys, errs
}

// decodeWhole decodes the file in one piece, and words its errors.
func decodeWhole(path string, data []byte, keys *fileKeys) (reflect.Value, Errors) {
	doc := reflect.New(rows().docType).Elem()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(doc.Addr().Interface())
	if err == nil {
		return doc, nil
	}
	var strict *toml.StrictMissingError
	var derr *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		var errs Errors
		for _, e := range strict.Errors {
			line, _ := e.Position()
			key := []string(e.Key())
			msg := fmt.Sprintf("unknown key %q", strings.Join(key, "."))
			if s := suggest(rows().docType, key); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, Error{Pos{path, line}, msg})
		}
		// Decoding went on past unknown keys, so the rest can still be checked.
		return doc, errs
	case errors.As(err, &derr):
		// A type error stops the decoder: decode again piece by piece,
		// so every other table and resource is still checked.
		doc, _, errs := decodeEach(path, data, keys.lines())
		return doc, errs
	default:
		return reflect.Value{}, Errors{{Pos{path, 0}, err.Error()}}
	}
}

// suggest finds the valid key closest to the last element of key, by walking
// the document's Go types along the key's path.
func suggest(t reflect.Type, key []string) string {
	for i, part := range key {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return ""
		}
		fields := tomlFields(t)
		if i == len(key)-1 {
			return closest(part, fields)
		}
		f, ok := fields[part]
		if !ok {
			return closest(part, fields) // a misspelt kind: [services.web]
		}
		t = f
	}
	return ""
}

func tomlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			for k, v := range tomlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		m[tag] = f.Type
	}
	return m
}

// closest returns the candidate with the smallest edit distance, if it is
// close enough to be a plausible typo.
func closest(word string, candidates map[string]reflect.Type) string {
	m := make(map[string]struct{}, len(candidates))
	for c := range candidates {
		m[c] = struct{}{}
	}
	return closestOf(word, m)
}

func closestOf(word string, candidates map[string]struct{}) string {
	best, bestD := "", 1<<30
	for c := range candidates {
		d := editDistance(word, c)
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if bestD > len(word)/2+1 {
		return ""
	}
	return best
}
