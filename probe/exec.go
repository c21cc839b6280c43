package probe

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

func runExec(ctx context.Context, s Spec, run Runner) error {
	if run == nil {
		return errors.New("exec probes need a command runner")
	}
	code, out, err := run(ctx, s.Exec)
	if err != nil {
		return err
	}
	if code != s.Exit && len(out) == 0 {
		return fmt.Errorf("expected exit %d, got exit %d", s.Exit, code)
	}
	if code != s.Exit {
		return fmt.Errorf("expected exit %d, got exit %d: %s", s.Exit, code, excerpt(out))
	}
	if s.Output != nil && !s.Output.Match(out) {
		return fmt.Errorf("expected output ~ %q, got %s", s.Output.String(), excerpt(out))
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
