package unitfile

import (
	"reflect"
	"testing"

	"github.com/unit-os/unit/config"
)

// FuzzUnitFile: no input panics the parser or the typed view, and what
// parses, formatted, parses back to the same keys.
func FuzzUnitFile(f *testing.F) {
	f.Add([]byte("[Unit]\nDescription=x\n[Service]\nType=notify\nExecStart=-/bin/echo \"a b\" $X ${Y} %i ; echo \\;\nEnvironment=A=1 'B=2 3'\n"))
	f.Add([]byte("[Service]\nExecStart=/bin/a \\\n# c\n b\nLimitNOFILE=1:2\nAmbientCapabilities=~CAP_CHOWN\nTimeoutSec=1min 5s\n"))
	f.Add([]byte("[Install]\nWantedBy=multi-user.target\n[X]\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseEnvironmentFile("e", data) // must not panic
		file, err := Parse("f", data)
		if err != nil {
			return
		}
		again, err := Parse("f", []byte(file.Format()))
		if err != nil {
			t.Fatalf("formatted file does not parse: %v\n%q", err, file.Format())
		}
		strip := func(ks []Key) []Key {
			out := make([]Key, len(ks))
			for i, k := range ks {
				k.Pos = config.Pos{}
				out[i] = k
			}
			return out
		}
		if len(file.Keys) > 0 && !reflect.DeepEqual(strip(file.Keys), strip(again.Keys)) {
			t.Fatalf("round trip:\n%v\n%v", file.Keys, again.Keys)
		}
		s, err := file.Service("a@b.service", sys())
		if err != nil {
			return
		}
		for _, c := range s.ExecStart {
			c.Expand(map[string]string{"X": "1 '2 3'", "Y": "y"})
		}
	})
}
