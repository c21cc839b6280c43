package deb

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// xzToolMin is the compressed size from which a data.tar.xz is decoded by
// the xz program when the machine has one: pure Go xz is about three times
// slower than liblzma, which shows only on the few large packages (the
// kernel, libllvm, libperl: seconds each). One process for such a .deb, none
// for the many small ones.
const xzToolMin = 4 << 20

// xzTool returns the output of `xz -dc` over r, or nil when there is no xz
// program. The stream fails if xz does: its exit status is the error of
// the read that would have been the end.
func xzTool(r io.Reader) io.ReadCloser {
	path, err := exec.LookPath("xz")
	if err != nil {
		return nil
	}
	cmd := exec.Command(path, "-dc", "-T1", "-q")
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil
	}
	if err := cmd.Start(); err != nil {
		return nil
	}
	return &xzStream{cmd: cmd, out: out, stderr: &stderr}
}

type xzStream struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *bytes.Buffer
	done   bool
	err    error
}

func (x *xzStream) Read(p []byte) (int, error) {
	n, err := x.out.Read(p)
	if err == io.EOF {
		if werr := x.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (x *xzStream) wait() error {
	if !x.done {
		x.done = true
		if err := x.cmd.Wait(); err != nil {
			x.err = fmt.Errorf("xz -d: %w: %s", err, strings.TrimSpace(x.stderr.String()))
		}
	}
	return x.err
}

// Close reaps xz and returns its failure; a reader that stopped early
// kills it first.
func (x *xzStream) Close() error {
	if !x.done {
		x.cmd.Process.Kill()
		x.out.Close()
		x.wait()
		return nil // stopped by its reader: what it would have said is moot
	}
	return x.err
}
