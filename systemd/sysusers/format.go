package sysusers

import (
	"fmt"
	"strings"

	"github.com/unit-os/unit/systemd/syntax"
)

// Line is the entry as a sysusers.d line that parses back to it: what a
// report can show.
func (e Entry) Line() string {
	q := func(s string) string {
		if s == "" {
			return "-"
		}
		return syntax.Quote(strings.ReplaceAll(s, "%", "%%"))
	}
	id := "-"
	switch {
	case e.Type == 'r':
		id = fmt.Sprint(e.From)
		if e.To != e.From {
			id += fmt.Sprintf("-%d", e.To)
		}
	case e.Type == 'm':
		id = e.Group
	case e.IDPath != "":
		id = e.IDPath
	case e.Type == 'g' && e.GIDSet:
		id = fmt.Sprint(e.GID)
	case e.Type == 'u':
		if e.UIDSet {
			id = fmt.Sprint(e.UID)
		}
		if e.GIDSet {
			id += fmt.Sprintf(":%d", e.GID)
		} else if e.Group != "" {
			id += ":" + e.Group
		}
	}
	return strings.Join([]string{string(e.Type), q(e.Name), q(id), q(e.GECOS), q(e.Home), q(e.Shell)}, " ")
}
