package daemon

import (
	"bytes"
	"strings"
	"testing"
)

// PID 1's log: one line a record, no slog time= (the journal's ring stamps
// each line, so `unit logs unit` showed two times), the console's lines
// start "unit: " as its event lines do and carry only warnings and up.
func TestBootLoggerOneLine(t *testing.T) {
	var console, journalOut bytes.Buffer
	j := &Journal{}
	log := BootLogger(&console, j)
	log.Info("held until the supervisor starts", "n", 1)
	j.attach(&journalOut)
	log.Warn("cm: cannot watch links", "err", "operation not permitted")

	if got := console.String(); got != "unit: level=WARN msg=\"cm: cannot watch links\" err=\"operation not permitted\"\n" {
		t.Errorf("console: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(journalOut.String(), "\n"), "\n")
	if len(lines) != 2 || lines[0] != `level=INFO msg="held until the supervisor starts" n=1` || !strings.HasPrefix(lines[1], "level=WARN ") {
		t.Errorf("journal: %q", journalOut.String())
	}
}
