package cas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// HelperProgram is the program that speaks the schemes unit does not
// (nats:// for the fleet's JetStream object store), as git hands
// <scheme>:// to git-remote-<scheme>:
//
//	unit-fleet content get URL SUM   the blob on stdout; exit 3: not there
//	unit-fleet content put URL SUM   the blob on stdin
const HelperProgram = "unit-fleet"

// helperNotFound is the helper's exit status for a blob it does not hold.
const helperNotFound = 3

// Helper is a place reached through HelperProgram.
type Helper struct {
	URL     string
	Program string        // default: FindHelper()
	Timeout time.Duration // per call; default DefaultTimeout
}

func (h Helper) String() string { return h.URL }

// FindHelper returns HelperProgram beside the running executable, else the
// one on PATH; its absence is an error naming it.
func FindHelper() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), HelperProgram)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(HelperProgram)
	if err != nil {
		return "", fmt.Errorf("no %s beside this program or on PATH (it speaks the places unit does not, like nats://)", HelperProgram)
	}
	return p, nil
}

// Get runs `PROGRAM content get URL SUM` with the blob on its stdout.
func (h Helper) Get(ctx context.Context, sum string, w io.Writer) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	return h.run(ctx, "get", sum, nil, w)
}

// Put runs `PROGRAM content put URL SUM` with the blob on its stdin.
func (h Helper) Put(ctx context.Context, sum string, r io.Reader, _ int64) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	return h.run(ctx, "put", sum, r, io.Discard)
}

func (h Helper) run(ctx context.Context, verb, sum string, in io.Reader, out io.Writer) error {
	prog := h.Program
	if prog == "" {
		var err error
		if prog, err = FindHelper(); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(h.Timeout, DefaultTimeout))
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, prog, "content", verb, h.URL, sum)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, &limited{&stderr, 4096}
	cmd.WaitDelay = 5 * time.Second // a helper's child holding the pipes cannot hang us
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == helperNotFound && verb == "get" {
		return ErrNotFound
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s content %s: %s", filepath.Base(prog), verb, msg)
	}
	return nil
}

// limited keeps the first n bytes written and drops the rest.
type limited struct {
	b *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
