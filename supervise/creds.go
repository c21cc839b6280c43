package supervise

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"

	"github.com/unit-os/unit/config"
)

// credential resolves user and group to ids (from /etc/passwd and
// /etc/group; no cgo, no NSS). nil means: run as ourselves.
func credential(cfg *config.Service) (*syscall.Credential, string, error) {
	if cfg.User == "" && cfg.Group == "" && len(cfg.Groups) == 0 {
		return nil, "", nil
	}
	cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: true}
	home := ""
	if cfg.User != "" {
		u, err := lookupUser(cfg.User)
		if err != nil {
			return nil, "", err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred.Uid, cred.Gid, home = uint32(uid), uint32(gid), u.HomeDir
		cred.NoSetGroups = false
		cred.Groups = []uint32{}
	}
	if cfg.Group != "" {
		g, err := lookupGroup(cfg.Group)
		if err != nil {
			return nil, "", err
		}
		gid, _ := strconv.Atoi(g.Gid)
		cred.Gid = uint32(gid)
	}
	if len(cfg.Groups) > 0 {
		cred.NoSetGroups = false
		cred.Groups = []uint32{}
		for _, name := range cfg.Groups {
			g, err := lookupGroup(name)
			if err != nil {
				return nil, "", err
			}
			gid, _ := strconv.Atoi(g.Gid)
			cred.Groups = append(cred.Groups, uint32(gid))
		}
	}
	return cred, home, nil
}

// ambientCaps maps capability names to numbers for SysProcAttr.AmbientCaps
// (names were validated with the config).
func ambientCaps(cfg *config.Service) []uintptr {
	var caps []uintptr
	for _, c := range cfg.Capabilities {
		if n, ok := config.Capabilities[strings.ToUpper(c)]; ok {
			caps = append(caps, uintptr(n))
		}
	}
	return caps
}

func lookupUser(name string) (*user.User, error) {
	if _, err := strconv.Atoi(name); err == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, nil
		}
		return &user.User{Uid: name, Gid: name, Username: name, HomeDir: "/"}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", name, err)
	}
	return u, nil
}

func lookupGroup(name string) (*user.Group, error) {
	if _, err := strconv.Atoi(name); err == nil {
		return &user.Group{Gid: name, Name: name}, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", name, err)
	}
	return g, nil
}
