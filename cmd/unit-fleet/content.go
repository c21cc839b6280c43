package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/unit-os/unit/cas"
	"github.com/unit-os/unit/fleet/content"
	"github.com/unit-os/unit/fleet/operator"
)

// The content store: blobs by sha256 in the fleet's object store
// (fleet/content). get and put are unit's helper protocol for a
// nats:// or tls:// cache in pkg.toml (cas): get writes the blob to
// stdout, exit 3 if the store lacks it; put reads it from stdin. push
// and ls are the operator's.

const contentUsage = `usage: unit-fleet content get URL SUM     the blob to stdout; exit 3: not in the store
       unit-fleet content put URL SUM     the blob from stdin, stored if its bytes hash to SUM
       unit-fleet content push URL DIR    every blob of DIR named by its sha256 the store lacks ($UNIT_CACHE/sources)
       unit-fleet content ls URL          SUM SIZE of every blob
URL: nats://HOST:4222 or tls://HOST:4222, optionally /BUCKET (default unit-content);
credentials: --creds, --ca or $UNIT_FLEET_CREDS, $UNIT_FLEET_CA (none on a plain nats:// development broker)`

// notFound is get's exit status for a blob the store lacks.
const notFound = 3

func contentCmd(ctx context.Context, _ *slog.Logger, args []string) error {
	return runContent(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

// runContent is `unit-fleet content`, on the given standard streams.
func runContent(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("content", flag.ExitOnError)
	fs.SetOutput(stderr)
	creds, ca := credsFlags(fs)
	pos := parseArgs(fs, args)
	want := map[string]int{"get": 3, "put": 3, "push": 3, "ls": 2}
	if len(pos) == 0 || want[pos[0]] != len(pos) {
		return errors.New(contentUsage)
	}
	server, bucket, err := content.ParseURL(pos[1])
	if err != nil {
		return err
	}
	nc, _, err := operator.Connect(server, *creds, *ca)
	if err != nil {
		return err
	}
	defer nc.Close()
	s, err := content.Open(ctx, nc, bucket, pos[1])
	if err != nil {
		return err
	}
	switch pos[0] {
	case "get":
		err := s.Get(ctx, pos[2], stdout)
		if errors.Is(err, cas.ErrNotFound) {
			fmt.Fprintln(stderr, "unit-fleet content get:", err)
			return exitError(notFound)
		}
		return err
	case "put":
		if err := s.Put(ctx, pos[2], stdin, -1); err != nil {
			return err
		}
		// A blob the store had is not read: take the rest, so that
		// the writer does not see a broken pipe for a success.
		_, err := io.Copy(io.Discard, io.LimitReader(stdin, content.MaxBlob+1))
		return err
	case "push":
		return push(ctx, s, pos[2], stdout, stderr)
	default:
		blobs, err := s.List(ctx)
		if err != nil {
			return err
		}
		for _, b := range blobs {
			fmt.Fprintf(stdout, "%s %d\n", b.Sum, b.Size)
		}
		return nil
	}
}

// push puts every regular file of dir named by a sha256 that the store
// lacks; a file whose bytes do not hash to its name is refused and
// named, and the others still go.
func push(ctx context.Context, s *content.Store, dir string, stdout, stderr io.Writer) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var pushed, present, skipped, failed int
	var bytes int64
	for _, e := range ents {
		if !e.Type().IsRegular() || !content.IsSum(e.Name()) {
			skipped++
			continue
		}
		n, sent, err := pushFile(ctx, s, filepath.Join(dir, e.Name()))
		switch {
		case err != nil:
			fmt.Fprintln(stderr, "unit-fleet content push:", err)
			failed++
		case sent:
			pushed++
			bytes += n
		default:
			present++
		}
	}
	fmt.Fprintf(stdout, "%s: pushed %d (%d bytes), present %d, skipped %d not named by a sha256\n", s, pushed, bytes, present, skipped)
	if failed > 0 {
		return fmt.Errorf("%d blobs of %s were not pushed", failed, dir)
	}
	return nil
}

// pushFile puts the file at path under its name unless the store has
// it, and says whether it was sent.
func pushFile(ctx context.Context, s *content.Store, path string) (size int64, sent bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	sum := filepath.Base(path)
	if ok, err := s.Has(ctx, sum, fi.Size()); err != nil || ok {
		return fi.Size(), false, err
	}
	if err := s.Put(ctx, sum, f, fi.Size()); err != nil {
		return 0, false, fmt.Errorf("%s: %w", path, err)
	}
	return fi.Size(), true, nil
}
