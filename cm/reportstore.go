package cm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/unit-os/unit/safepath"
)

// reportStore keeps the last N convergence reports as JSON files named by
// time, so `unit report` can show the latest without asking the daemon.
// Writes happen on their own goroutine: a slow disk never delays a repair.
type reportStore struct {
	dir  string
	keep int
	ch   chan *Report
}

// DefaultReports is how many reports are kept unless [cm] reports says.
const DefaultReports = 20

// WithReports keeps the last keep reports (0: DefaultReports) in dir.
func WithReports(dir string, keep int) Option {
	if keep <= 0 {
		keep = DefaultReports
	}
	return func(e *Engine) { e.reports = &reportStore{dir: dir, keep: keep, ch: make(chan *Report, 64)} }
}

func (s *reportStore) run(ctx context.Context, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-s.ch:
			s.writeSafely(r, log)
		}
	}
}

// writeSafely writes one report; a panic is logged, never fatal (PID 1).
func (s *reportStore) writeSafely(r *Report, log *slog.Logger) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("cm: panic writing a report", "panic", p)
		}
	}()
	if err := s.write(r); err != nil {
		log.Error("cm: report", "err", err)
	}
	if len(r.Changes) >= bigPass {
		debug.FreeOSMemory() // the JSON of a big report is garbage now
	}
}

func (e *Engine) saveReport(r *Report) {
	if e.reports == nil {
		return
	}
	if r.ConfigError == "" {
		r.ConfigError = e.configError()
	}
	if !e.running.Load() { // ApplyOnce: no writer goroutine
		if err := e.reports.write(r); err != nil {
			e.log.Error("cm: report", "err", err)
		}
		return
	}
	select {
	case e.reports.ch <- r:
	default:
		e.log.Warn("cm: report queue full; report dropped")
	}
}

func (s *reportStore) write(r *Report) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	name := fmt.Sprintf("%020d.json", r.Time.UnixNano())
	if err := safepath.WriteFile(filepath.Join(s.dir, name), append(data, '\n'), 0o644, -1, -1); err != nil {
		return err
	}
	return s.prune()
}

func (s *reportStore) prune() error {
	names, err := listReports(s.dir)
	if err != nil {
		return err
	}
	for len(names) > s.keep {
		if err := os.Remove(filepath.Join(s.dir, names[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		names = names[1:]
	}
	return nil
}

func listReports(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// LatestReport reads the newest report in dir.
func LatestReport(dir string) (*Report, error) {
	rs, err := Reports(dir, 1)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("reports: none in %s yet", dir)
	}
	return rs[0], nil
}

// Reports reads the newest n reports in dir, newest first.
func Reports(dir string, n int) ([]*Report, error) {
	names, err := listReports(dir)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var out []*Report
	for i := len(names) - 1; i >= 0 && len(out) < n; i-- {
		data, err := os.ReadFile(filepath.Join(dir, names[i]))
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		var r Report
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("report %s: %w", names[i], err)
		}
		out = append(out, &r)
	}
	return out, nil
}
