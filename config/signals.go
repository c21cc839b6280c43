package config

import "syscall"

// Signals maps signal names without the SIG prefix to numbers.
var Signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"TERM": syscall.SIGTERM, "CONT": syscall.SIGCONT, "STOP": syscall.SIGSTOP,
	"WINCH": syscall.SIGWINCH, "PWR": syscall.SIGPWR,
}

// Signal returns the stop signal of a service, SIGTERM when unset.
func (s *Service) Signal() syscall.Signal {
	if sig, ok := Signals[trimSig(s.StopSignal)]; ok {
		return sig
	}
	return syscall.SIGTERM
}

func trimSig(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	if len(b) > 3 && string(b[:3]) == "SIG" {
		b = b[3:]
	}
	return string(b)
}
