package cm

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxDiffCells bounds the LCS table (lines × lines) so a dry run of a huge
// file stays cheap; beyond it the diff says only that the content differs.
const maxDiffCells = 16 << 20

// unifiedDiff renders old → new as a unified diff with 3 lines of context.
func unifiedDiff(path string, old, new []byte) string {
	var b strings.Builder
	from := "a" + path
	if old == nil {
		from = "/dev/null"
	}
	fmt.Fprintf(&b, "--- %s\n+++ b%s\n", from, path)
	if !utf8.Valid(old) || !utf8.Valid(new) || bytes.IndexByte(old, 0) >= 0 || bytes.IndexByte(new, 0) >= 0 {
		fmt.Fprintf(&b, "Binary content differs (%d -> %d bytes)\n", len(old), len(new))
		return b.String()
	}
	a, c := splitLines(old), splitLines(new)
	if (len(a)+1)*(len(c)+1) > maxDiffCells {
		fmt.Fprintf(&b, "Content differs (%d -> %d lines; too large to diff)\n", len(a), len(c))
		return b.String()
	}
	ops := diffLines(a, c)
	writeHunks(&b, ops, 3)
	return b.String()
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// op is one line of the edit script: ' ', '-' or '+'.
type op struct {
	kind       byte
	line       string
	aLine, bLn int // 1-based line numbers in old and new
}

// diffLines is the classic LCS edit script: small, exact, O(n·m).
func diffLines(a, b []string) []op {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], i + 1, j + 1})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, op{'+', b[j], i, j + 1})
			j++
		default:
			ops = append(ops, op{'-', a[i], i + 1, j})
			i++
		}
	}
	return ops
}

// writeHunks groups changes with ctx lines of context around them.
func writeHunks(b *strings.Builder, ops []op, ctx int) {
	for start := 0; start < len(ops); {
		// Find the next change.
		for start < len(ops) && ops[start].kind == ' ' {
			start++
		}
		if start == len(ops) {
			return
		}
		lo := max(0, start-ctx)
		hi := start
		// Extend while changes are within 2*ctx of each other.
		for k := start; k < len(ops); k++ {
			if ops[k].kind != ' ' {
				hi = k
			} else if k-hi > 2*ctx {
				break
			}
		}
		end := min(len(ops), hi+ctx+1)
		var aStart, aLen, bStart, bLen int
		for k := lo; k < end; k++ {
			o := ops[k]
			if o.kind != '+' {
				if aLen == 0 {
					aStart = o.aLine
				}
				aLen++
			}
			if o.kind != '-' {
				if bLen == 0 {
					bStart = o.bLn
				}
				bLen++
			}
		}
		if aLen == 0 {
			aStart = ops[lo].aLine
		}
		if bLen == 0 {
			bStart = ops[lo].bLn
		}
		fmt.Fprintf(b, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
		for k := lo; k < end; k++ {
			b.WriteByte(ops[k].kind)
			b.WriteString(ops[k].line)
			if !strings.HasSuffix(ops[k].line, "\n") {
				b.WriteString("\n\\ No newline at end of file\n")
			}
		}
		start = end
	}
}
