// Command cmdrift measures drift repair latency of a running `unit run`:
// it overwrites managed files one at a time and times, with inotify, how
// long until the engine renames the repaired file back into place.
//
//	cmdrift -n 500 FILE...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	n := flag.Int("n", 500, "number of drifts")
	gap := flag.Duration("gap", 5*time.Millisecond, "pause between drifts")
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: cmdrift [-n N] FILE...")
		os.Exit(2)
	}
	if err := run(files, *n, *gap); err != nil {
		fmt.Fprintln(os.Stderr, "cmdrift:", err)
		os.Exit(1)
	}
}

func run(files []string, n int, gap time.Duration) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	watched := map[string]bool{}
	for _, f := range files {
		d := filepath.Dir(f)
		if !watched[d] {
			if _, err := unix.InotifyAddWatch(fd, d, unix.IN_MOVED_TO); err != nil {
				return fmt.Errorf("watch %s: %w", d, err)
			}
			watched[d] = true
		}
	}
	lat := make([]time.Duration, 0, n)
	buf := make([]byte, 64<<10)
	for i := 0; i < n; i++ {
		f := files[i%len(files)]
		want, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := os.WriteFile(f, []byte("drift\n"), 0o644); err != nil {
			return err
		}
		if err := waitRename(fd, buf, filepath.Base(f), 2*time.Second); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		lat = append(lat, time.Since(start))
		if got, _ := os.ReadFile(f); !bytes.Equal(got, want) {
			return fmt.Errorf("%s: restored content differs", f)
		}
		time.Sleep(gap)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("drift repairs: %d  p50 %s  p90 %s  p99 %s  max %s\n", len(lat),
		q(0.50).Round(time.Microsecond), q(0.90).Round(time.Microsecond),
		q(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}

// waitRename reads inotify events until name is moved into a watched dir.
func waitRename(fd int, buf []byte, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("not repaired within %s", timeout)
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left.Milliseconds())+1); err != nil && err != unix.EINTR {
			return err
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			continue
		}
		k, err := unix.Read(fd, buf)
		if err != nil {
			return err
		}
		for off := 0; off+unix.SizeofInotifyEvent <= k; {
			ev := (*unix.InotifyEvent)(unsafePointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if string(bytes.TrimRight(nameBytes, "\x00")) == name {
				return nil
			}
		}
	}
}
