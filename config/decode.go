package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// decodeEach decodes a file table by table and resource by resource, so a
// type error in one resource hides nothing in the others (the decoder
// stops at the first). Every error is at its key's line in the original
// file, in plain words. It runs only when the one-pass decode failed.
func decodeEach(path string, data []byte, idx Lines) (reflect.Value, Lines, Errors) {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		return reflect.Value{}, nil, syntaxError(path, data, err)
	}
	docType := rows().docType
	doc := reflect.New(docType).Elem()
	fields := map[string]int{}
	for i := 0; i < docType.NumField(); i++ {
		fields[strings.Split(docType.Field(i).Tag.Get("toml"), ",")[0]] = i
	}
	var errs Errors
	for _, top := range sortedKeys(raw) {
		i, known := fields[top]
		sub, isTable := raw[top].(map[string]any)
		if known && isTable && docType.Field(i).Type.Kind() == reflect.Map {
			for _, name := range sortedKeys(sub) {
				errs = append(errs, decodePiece(path, idx, doc, i, map[string]any{top: map[string]any{name: sub[name]}})...)
			}
			continue
		}
		errs = append(errs, decodePiece(path, idx, doc, i, map[string]any{top: raw[top]})...)
	}
	return doc, idx, errs
}

// decodePiece decodes one table or resource strictly and, when it is
// clean, puts it into doc's field i.
func decodePiece(path string, idx Lines, doc reflect.Value, i int, piece map[string]any) Errors {
	var errs Errors
	docType := rows().docType
	one := reflect.New(docType).Elem()
	// A type error names one key: report it, take the key out and decode
	// again, so the piece's other mistakes are reported too.
	for tries := 0; ; tries++ {
		one = reflect.New(docType).Elem()
		err := decodeStrict(piece, one)
		var strict *toml.StrictMissingError
		var derr *toml.DecodeError
		switch {
		case err == nil:
		case errors.As(err, &strict):
			var reported []string
			for _, e := range strict.Errors {
				key := strings.Join(e.Key(), ".")
				if hasPrefixKey(key, reported) {
					continue // "services" said it: not "services.web" too
				}
				reported = append(reported, key)
				errs = append(errs, unknownKey(path, idx, []string(e.Key())))
			}
			return errs
		case errors.As(err, &derr) && len(derr.Key()) > 0 && tries < 100:
			key := derr.Key()
			errs = append(errs, Error{Pos{path, idx.Line(key...)}, explain(key, derr.Error(), lookup(piece, key))})
			if !remove(piece, key) {
				return errs
			}
			continue
		default:
			key := pieceKey(piece)
			return append(errs, Error{Pos{path, idx.Line(key...)}, strings.Join(key, ".") + ": " + err.Error()})
		}
		break
	}
	if len(errs) > 0 {
		return errs
	}
	dst, src := doc.Field(i), one.Field(i)
	if dst.Kind() == reflect.Map {
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		for _, k := range src.MapKeys() {
			dst.SetMapIndex(k, src.MapIndex(k))
		}
	} else {
		dst.Set(src)
	}
	return nil
}

func decodeStrict(piece map[string]any, into reflect.Value) error {
	b, err := toml.Marshal(piece)
	if err != nil {
		return err
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(into.Addr().Interface())
}

// pieceKey is the table (and resource) a piece holds: [service, web].
func pieceKey(piece map[string]any) []string {
	var key []string
	for k, v := range piece {
		key = append(key, k)
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			for n := range m {
				key = append(key, n)
			}
		}
	}
	return key
}

// remove deletes key from the raw tree; false if it was not there.
func remove(v map[string]any, key []string) bool {
	for _, k := range key[:len(key)-1] {
		next, ok := v[k].(map[string]any)
		if !ok {
			return false
		}
		v = next
	}
	last := key[len(key)-1]
	if _, ok := v[last]; !ok {
		return false
	}
	delete(v, last)
	return true
}

func hasPrefixKey(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
}

// unknownKey is the error for a key no table has, with the closest one.
func unknownKey(path string, idx Lines, key []string) Error {
	msg := fmt.Sprintf("unknown key %q", strings.Join(key, "."))
	if s := suggest(rows().docType, key); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return Error{Pos{path, idx.Line(key...)}, msg}
}

// lookup returns the raw value at key in v, or nil.
func lookup(v any, key []string) any {
	for _, k := range key {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// typeErrRE reads the decoder's type errors; compiled on the first
// (an error path), not in every process's init.
var typeErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`cannot decode TOML (\w+) into (?:struct field [\w.]+ of type |a Go value of type )?(\S+)`)
})

// explain turns the decoder's words into the user's: what the key
// expected, what it got, and how to write it.
func explain(key []string, msg string, got any) string {
	name := keyString(key)
	last := ""
	if len(key) > 0 {
		last = key[len(key)-1]
	}
	msg = strings.TrimPrefix(msg, "toml: ")
	m := typeErrRE().FindStringSubmatch(msg)
	if m == nil {
		return name + ": " + msg
	}
	want := goTypeWords(m[2])
	out := fmt.Sprintf("%s: expected %s, got %s", name, want, tomlTypeWords(m[1]))
	switch {
	case m[2] == "[]string" && m[1] == "string":
		if s, ok := got.(string); ok {
			q := make([]string, 0)
			for _, f := range strings.Fields(s) {
				q = append(q, fmt.Sprintf("%q", f))
			}
			out += fmt.Sprintf("; write %s = [%s]", last, strings.Join(q, ", "))
		}
	case m[2] == "string" && last == "mode" && m[1] == "integer":
		out += fmt.Sprintf("; write modes as octal strings: mode = \"0%v\"", got)
	case m[2] == "string" && (m[1] == "integer" || m[1] == "float" || m[1] == "bool"):
		out += fmt.Sprintf("; quote it: %s = \"%v\"", last, got)
	case strings.HasSuffix(m[2], "Duration") && (m[1] == "integer" || m[1] == "float"):
		out += fmt.Sprintf("; write a unit: %s = \"%vs\"", last, got)
	}
	return out
}

func goTypeWords(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "[]string":
		return "a list of strings"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || t == "*int":
		return "an integer"
	case strings.HasSuffix(t, "Duration"):
		return `a duration such as "30s" or "1m30s"`
	case strings.HasSuffix(t, "Size"):
		return `a size such as 1024, "64M" or "1G"`
	case strings.HasPrefix(t, "map["):
		return "a table"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return t
}

func tomlTypeWords(t string) string {
	switch t {
	case "integer":
		return "an integer"
	case "array":
		return "a list"
	case "table", "inline":
		return "a table"
	case "bool", "boolean":
		return "true or false"
	}
	return "a " + t
}

// syntaxError is a TOML syntax error at its line, with a hint where the
// mistake is a common one.
func syntaxError(path string, data []byte, err error) Errors {
	var derr *toml.DecodeError
	if !errors.As(err, &derr) {
		return Errors{{Pos{path, 0}, err.Error()}}
	}
	line, _ := derr.Position()
	msg := strings.TrimPrefix(derr.Error(), "toml: ")
	if strings.Contains(msg, "leading zeroes") {
		msg += `; write modes as strings: mode = "0644"`
	}
	return Errors{{Pos{path, line}, msg}}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keyString writes a key path as TOML would: file."/etc/x".mode.
func keyString(key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		if isBareKey(k) {
			parts[i] = k
		} else {
			parts[i] = fmt.Sprintf("%q", k)
		}
	}
	return strings.Join(parts, ".")
}
