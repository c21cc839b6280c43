package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/unit-os/unit/api"
)

// cmdUpdate is `unit update SOURCE` and `unit update --rollback`: the
// machine writes the bundle into its other root slot and reboots into it
// on trial (or boots the image it had before).
func cmdUpdate(args []string) error {
	fs := newFlags("update")
	rollback := fs.Bool("rollback", false, "boot the other slot's image (the one this machine ran before) instead")
	noReboot := fs.Bool("no-reboot", false, "install, and leave the reboot to later")
	pin := fs.String("sha256", "", "the bundle's id, as unit image build --format update prints it: anything else is refused before a byte is written")
	socket := socketFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	req := api.Request{Cmd: "update", Rollback: *rollback, NoReboot: *noReboot, SHA256: strings.TrimPrefix(*pin, "sha256:")}
	switch {
	case *rollback && len(pos) > 0:
		return usageError{errors.New("update --rollback takes no SOURCE")}
	case !*rollback && len(pos) != 1:
		return usageError{errors.New("update: want one SOURCE: a bundle's path on the machine or an http URL")}
	case !*rollback:
		req.Source = pos[0]
		if !strings.Contains(req.Source, "://") {
			// A path is the machine's: relative ones are to where this
			// runs (on the machine; with --machine, give a URL or an
			// absolute path in the guest).
			if req.Source, err = filepath.Abs(req.Source); err != nil {
				return err
			}
		}
	}
	// Ctrl-C hangs up, which stops the install on the machine (the slot
	// it was writing gets no boot entry).
	ctx, stop := interruptible()
	defer stop()
	err = api.Call(ctx, *socket, req, func(b json.RawMessage) error {
		var p api.UpdateProgress
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
		fmt.Println(p.Message)
		return nil
	})
	if err == nil && ctx.Err() != nil {
		return errors.New("update: interrupted; the machine keeps booting what it booted")
	}
	return err
}
