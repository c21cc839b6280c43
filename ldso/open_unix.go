package ldso

import (
	"os"
	"syscall"
)

func openNoFollow(host string) (*os.File, error) {
	return os.OpenFile(host, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}
