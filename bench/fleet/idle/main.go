// Command idle is a Go program that does nothing (blocked on a signal)
// and links nothing but the runtime: the wake-ups of an idle Go process,
// which bench/fleet measures beside the agent's. Its own idle role links
// nats-server, whose process-stats package samples /proc every second.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
	<-ch
}
