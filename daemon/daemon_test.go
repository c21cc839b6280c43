package daemon

import (
	"bytes"
	"context"
	"testing"

	"github.com/unit-os/unit/event"
)

// The console prints every event emitted before shutdown, even those still
// queued when the loops are told to end (the last services' "stopped").
func TestPrintEventsDrainsAtShutdown(t *testing.T) {
	for range 50 {
		bus := event.NewBus()
		ch, unsubscribe := bus.Subscribe(16)
		for _, name := range []string{"web", "db", "syslogd"} {
			bus.Emit(event.Event{Resource: "service:" + name, State: "stopped"})
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out bytes.Buffer
		printEvents(ctx, ch, &out)
		unsubscribe()
		want := "unit: service:web stopped\nunit: service:db stopped\nunit: service:syslogd stopped\n"
		if out.String() != want {
			t.Fatalf("console:\n%s\nwant:\n%s", out.String(), want)
		}
	}
}
