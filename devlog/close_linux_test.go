package devlog

import "golang.org/x/sys/unix"

func closeFD(l *Listener) error { return unix.Close(l.fd) }
