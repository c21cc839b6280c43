package config

import (
	"fmt"
	"io"
	"os"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Limits on a config file. A local file is root's, but a fleet layer is
// whatever the broker handed the agent, and PID 1 parses both: every
// limit is checked in one pass over the syntax tree (linear in the
// input) before the bytes reach the decoder, whose cost per byte is much
// higher, and before IndexLines.
const (
	// MaxFileSize is the largest config file or layer (a layer in the
	// fleet's bucket is at most 1 MiB too).
	MaxFileSize = 1 << 20
	// MaxKeyParts bounds a key's path: its table's parts and its own
	// dotted parts, inline tables included ([service.web] env.A is 4).
	MaxKeyParts = 16
	// MaxKeyLen bounds one part of a key in bytes: a [file] is named by
	// its path, and a path is at most PATH_MAX.
	MaxKeyLen = 4096
	// MaxNesting bounds arrays and inline tables inside one another.
	MaxNesting = 16
	// MaxTables bounds the table headers of one file, and MaxTableKeys
	// the keys directly in one table: the decoder's duplicate-key
	// tracker is quadratic in both (docs/figures.md, "TOML decoder": a
	// 1 MiB table of 137,065 keys took it 1 min 49 s). At these limits
	// the worst file decodes in about a second.
	MaxTables    = 16384
	MaxTableKeys = 4096
	// maxLimitErrors is how many limit errors one file reports.
	maxLimitErrors = 10
)

// readConfig reads a config file, at most MaxFileSize+1 bytes of it: a
// larger file is refused by checkLimits without being read whole. The
// buffer is the file's size (io.ReadAll's growing from 512 bytes
// allocated three times a large file's size).
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(512)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = min(st.Size(), MaxFileSize) + 1
	}
	r := io.LimitReader(f, MaxFileSize+1)
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// checkLimits reports where data exceeds a limit, file:line each. A
// syntax error is left to the decoder, which words it better.
func checkLimits(path string, data []byte) Errors {
	_, errs := scanFile(path, data)
	return errs
}

// scanFile checks data's limits and, in the same walk of its syntax tree
// (parsing is most of the cost), plans its chunks (chunks.go). Its lines
// are indexed only when asked for (fileKeys): a valid file of files is
// never asked.
func scanFile(path string, data []byte) (chunkPlan, Errors) {
	ls := newLineStarts(data)
	if len(data) > MaxFileSize {
		return chunkPlan{}, Errors{{Pos{path, ls.line(MaxFileSize)}, fmt.Sprintf("the file is larger than %d bytes, the most a config file may be", MaxFileSize)}}
	}
	lc := limitChecker{path: path, ls: ls}
	plan := newChunkPlan(data)
	var key keyPath
	p := unstable.Parser{}
	p.Reset(data)
	table, tables, keys := 0, 0, 0
	for p.NextExpression() && len(lc.errs) < maxLimitErrors {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table, keys = lc.key(e, 0), 0
			if tables++; tables == MaxTables+1 {
				lc.fail(lineOfKey(ls, e), "more than %d tables in one file", MaxTables)
			}
			key.reset()
			key.pushKey(e.Key())
			plan.add(ls, lineOfKey(ls, e), &key)
		case unstable.KeyValue:
			if keys++; keys == MaxTableKeys+1 {
				lc.fail(lineOfKey(ls, e), "more than %d keys in one table", MaxTableKeys)
			}
			if table <= MaxKeyParts { // else its table was reported
				lc.keyValue(e, table, 0, 0)
			}
			if tables == 0 {
				plan.ok = false // a key before the first header
			}
		}
	}
	if len(lc.errs) > 0 {
		return chunkPlan{}, lc.errs
	}
	if p.Error() != nil {
		plan.ok = false
	}
	return plan, nil
}

type limitChecker struct {
	path string
	ls   lineStarts
	errs Errors
}

func (lc *limitChecker) fail(line int, format string, a ...any) {
	if len(lc.errs) < maxLimitErrors {
		lc.errs = append(lc.errs, Error{Pos{lc.path, line}, fmt.Sprintf(format, a...)})
	}
}

// key checks the key of a table header or key-value below a path of
// parts parts and returns the length of the whole path.
func (lc *limitChecker) key(e *unstable.Node, parts int) int {
	it := e.Key()
	for it.Next() {
		parts++
		if n := len(it.Node().Data); n > MaxKeyLen {
			lc.fail(lc.ls.line(it.Node().Raw.Offset), "a key part is %d bytes long; at most %d", n, MaxKeyLen)
			return parts
		}
	}
	if parts > MaxKeyParts {
		lc.fail(lineOfKey(lc.ls, e), "key has %d parts; at most %d", parts, MaxKeyParts)
	}
	return parts
}

// keyValue checks a key-value below a path of parts parts, nested
// inside depth arrays and inline tables.
// line is the nearest line known above (containers have none of their
// own).
func (lc *limitChecker) keyValue(kv *unstable.Node, parts, depth, line int) {
	if l := lineOfKey(lc.ls, kv); l > 0 {
		line = l
	}
	if parts = lc.key(kv, parts); parts > MaxKeyParts {
		return
	}
	lc.value(kv.Value(), parts, depth, line)
}

func (lc *limitChecker) value(v *unstable.Node, parts, depth, line int) {
	if v == nil || (v.Kind != unstable.Array && v.Kind != unstable.InlineTable) {
		return
	}
	if depth++; depth > MaxNesting {
		if l := firstLine(lc.ls, v); l > 0 {
			line = l
		}
		lc.fail(line, "arrays and inline tables nested more than %d deep", MaxNesting)
		return
	}
	it := v.Children()
	for it.Next() && len(lc.errs) < maxLimitErrors {
		if c := it.Node(); v.Kind == unstable.InlineTable {
			lc.keyValue(c, parts, depth, line)
		} else {
			lc.value(c, parts, depth, line)
		}
	}
}
