package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/unit-os/unit/api"
)

// cmdMetrics is `unit metrics`: the machine in Prometheus text format,
// as [metrics] textfile has it, but of this moment.
func cmdMetrics(args []string) error {
	fs := newFlags("metrics")
	socket := socketFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return api.Call(context.Background(), *socket, api.Request{Cmd: "metrics"}, func(b json.RawMessage) error {
		var text string
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		fmt.Print(text)
		return nil
	})
}
