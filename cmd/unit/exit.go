package main

import (
	"errors"
	"fmt"
)

type exitCoder interface{ ExitCode() int }

// exitCode is an error that only sets the process exit status (the message
// was already printed).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
func (e exitCode) ExitCode() int { return int(e) }

func asExitCoder(err error, target *exitCoder) bool { return errors.As(err, target) }
