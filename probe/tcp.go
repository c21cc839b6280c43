package probe

import (
	"context"
	"fmt"
	"net"
)

// runTCP connects, writes Send, and reads until the reply matches Expect,
// the peer closes, or time runs out.
func runTCP(ctx context.Context, s Spec) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.TCP)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.Expect == nil && s.Send == "" {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if s.Send != "" {
		if _, err := c.Write([]byte(s.Send)); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	if s.Expect == nil {
		return nil
	}
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < maxAnswer {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if s.Expect.Match(got) {
			return nil
		}
		if err != nil {
			break
		}
	}
	return fmt.Errorf("expected answer ~ %q, got %s", s.Expect.String(), excerpt(got))
}
