package daemon

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/unit-os/unit/config"
)

// groupID is the gid of a group named by number, in /etc/group, or
// declared with a gid in the config (it may not be made yet at boot).
func groupID(name string, cfg *config.Config) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	if b, err := os.ReadFile("/etc/group"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 3 && f[0] == name {
				if n, err := strconv.Atoi(f[2]); err == nil {
					return n, nil
				}
			}
		}
	}
	if g := cfg.Groups[name]; g != nil && g.GID != nil {
		return *g.GID, nil
	}
	return 0, fmt.Errorf("group %q: not in /etc/group and not declared with a gid", name)
}
