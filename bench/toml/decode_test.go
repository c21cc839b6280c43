package toml

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	burnt "github.com/BurntSushi/toml"
	pelletier "github.com/pelletier/go-toml/v2"
)

// decodePelletier decodes strictly, as config.parse does.
func decodePelletier(data []byte, v any) error {
	dec := pelletier.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// decodeBurnt decodes and refuses undecoded keys, BurntSushi's strictness
// (not into a generic map, which takes every key: its Undecoded still
// lists a dotted key's leaf there).
func decodeBurnt(data []byte, v any) error {
	md, err := burnt.NewDecoder(bytes.NewReader(data)).Decode(v)
	if err != nil {
		return err
	}
	if _, generic := v.(*map[string]any); generic {
		return nil
	}
	if u := md.Undecoded(); len(u) > 0 {
		return fmt.Errorf("unknown keys %v", u)
	}
	return nil
}

var decoders = []struct {
	name   string
	decode func([]byte, any) error
}{
	{"pelletier", decodePelletier},
	{"burntsushi", decodeBurnt},
}

// BenchmarkDecode decodes each input into the Go value the project
// decodes it into (a generic map for the deep keys).
func BenchmarkDecode(b *testing.B) {
	for _, in := range inputs(b) {
		for _, d := range decoders {
			b.Run(strings.ReplaceAll(in.name, "/", "_")+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := d.decode(in.data, in.into()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestSameValues: both decoders give the same Go values for every input
// but the heavy ones (a switch would change nothing the project reads).
func TestSameValues(t *testing.T) {
	for _, in := range inputs(t) {
		if in.heavy {
			continue
		}
		p, b := in.into(), in.into()
		if err := decodePelletier(in.data, p); err != nil {
			t.Errorf("%s: pelletier: %v", in.name, err)
			continue
		}
		if err := decodeBurnt(in.data, b); err != nil {
			t.Errorf("%s: burntsushi: %v", in.name, err)
			continue
		}
		if !reflect.DeepEqual(p, b) {
			t.Errorf("%s: the decoders disagree", in.name)
		}
	}
}
