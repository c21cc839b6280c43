package main

import (
	"context"
	"log/slog"
)

// reportedHandler leaves out the records about one resource (a failure, a
// fight: they carry a "resource" attribute), which the report of `unit
// apply --once` prints, so each fact is said once.
type reportedHandler struct{ slog.Handler }

func (h reportedHandler) Handle(ctx context.Context, r slog.Record) error {
	about := false
	r.Attrs(func(a slog.Attr) bool {
		about = a.Key == "resource"
		return !about
	})
	if about {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h reportedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return reportedHandler{h.Handler.WithAttrs(as)}
}

func (h reportedHandler) WithGroup(name string) slog.Handler {
	return reportedHandler{h.Handler.WithGroup(name)}
}
