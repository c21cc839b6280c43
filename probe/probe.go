// Package probe asks a running service a question and judges the answer:
// an HTTP request whose status, body or JSON field must be right, a TCP
// exchange whose reply must match, a command whose exit code and output
// must be right. An open port is not a working service.
//
// It is the one implementation behind [check.NAME] (unit checks, unit
// image test, and later the commit of an update); the supervisor's health
// and ready probes are to move onto it.
package probe

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Spec is one probe. Exactly one of HTTP, TCP and Exec is set.
type Spec struct {
	HTTP string   // http://HOST:PORT/PATH
	TCP  string   // HOST:PORT
	Exec []string // argv

	Status int // http: the status wanted (0: 200)
	// AnySuccess: http: any 2xx or 3xx status passes (health's short form).
	AnySuccess bool
	Body       *regexp.Regexp    // http: the body must match
	JSON       map[string]string // http: JSON field path -> the value wanted, as text
	Send       string            // tcp: written once connected
	Expect     *regexp.Regexp    // tcp: the reply must match (nil: connecting is enough)
	Exit       int               // exec: the exit code wanted
	Output     *regexp.Regexp    // exec: its output must match

	Timeout time.Duration // one try (0: 5s)
}

// Runner starts argv and returns its exit code and combined output. In
// PID 1 children must be started and reaped by the supervisor's reaper,
// so the command runner is the caller's.
type Runner func(ctx context.Context, argv []string) (exit int, output []byte, err error)

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// Run tries the probe once; nil means it passed, else the error says what
// was expected and what came.
func Run(ctx context.Context, s Spec, run Runner) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case s.HTTP != "":
		return runHTTP(ctx, s)
	case s.TCP != "":
		return runTCP(ctx, s)
	case len(s.Exec) > 0:
		return runExec(ctx, s, run)
	}
	return fmt.Errorf("empty probe: set http, tcp or exec")
}

// excerpt quotes the start of an answer for a message.
func excerpt(b []byte) string {
	const n = 80
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}
