package safepath

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// unsafeStep is systemd's unsafe_transition(): from a directory (or link)
// of root anything may follow; from one of an unprivileged user only what
// the same user owns. A user can rename, replace and link within what they
// own, so a root-owned place reached through it may be one they steered us
// to.
func unsafeStep(from, to *unix.Stat_t) bool {
	return from.Uid != 0 && from.Uid != to.Uid
}

// UnsafeError is a walk refused at one step.
type UnsafeError struct {
	Path    string // what was asked for
	From    string // the step the walk stood on
	FromUid uint32
	To      string // where it would have gone
	ToUid   uint32
	Link    string // the symlink target, when the step is a link's
}

func (e *UnsafeError) Error() string {
	if e.Link != "" {
		return fmt.Sprintf("%s: unsafe path: %s is a symlink of uid %d to %q, which leads to %s of uid %d; not following it",
			e.Path, e.From, e.FromUid, e.Link, e.To, e.ToUid)
	}
	return fmt.Sprintf("%s: unsafe path: %s (uid %d) leads to %s (uid %d); a directory of an unprivileged user may only lead to what that user owns",
		e.Path, e.From, e.FromUid, e.To, e.ToUid)
}
