package pkgbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// run runs a host command (fetching and unpacking, never a build step) and
// returns its stdout; a failure is a *cmdError carrying the command's stderr.
func run(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return nil, &cmdError{Name: name, Args: args, Err: err, Stderr: msg}
	}
	return stdout.Bytes(), nil
}

// cmdError is a host command that failed. Callers that know the command
// (apt's "Unable to locate package") turn Stderr into a short answer.
type cmdError struct {
	Name   string
	Args   []string
	Err    error
	Stderr string
}

// Error names the command without its "-o key=value" options: apt's run
// to hundreds of characters of cache paths that say nothing about why.
func (e *cmdError) Error() string {
	var args []string
	for i := 0; i < len(e.Args); i++ {
		if e.Args[i] == "-o" && i+1 < len(e.Args) {
			i++
			continue
		}
		args = append(args, e.Args[i])
	}
	s := strings.Join(append([]string{e.Name}, args...), " ") + ": " + e.Err.Error()
	if e.Stderr != "" {
		s += ": " + e.Stderr
	}
	return s
}

func (e *cmdError) Unwrap() error { return e.Err }

// FileSHA256 is the hex sha256 of a file's contents.
func FileSHA256(path string) (string, error) {
	sum, _, err := FileSHA256Size(path)
	return sum, err
}

// FileSHA256Size is the hex sha256 of a file's contents and its size.
func FileSHA256Size(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
