package content

import (
	"context"
	"fmt"
	"time"
)

// watchdog is a context ended when poke has not been called for idle:
// a transfer that stalls is given up however large its blob. stop ends
// it (and the context).
func watchdog(ctx context.Context, idle time.Duration) (wctx context.Context, poke, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(idle, func() { cancel(fmt.Errorf("nothing moved for %s", idle)) })
	return ctx, func() { t.Reset(idle) }, func() { t.Stop(); cancel(nil) }
}

// cause is why ctx ended, if it did: the watchdog's stall, or the
// caller's own reason; else err.
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return err
}
