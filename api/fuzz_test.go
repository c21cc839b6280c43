package api

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"testing"
	"time"
)

// FuzzServeConn: a client's bytes on the control socket never panic or
// wedge the server: it answers or hangs up.
func FuzzServeConn(f *testing.F) {
	for _, s := range []string{`{"cmd":"status"}` + "\n", `{"cmd":"logs","name":"web","lines":-1,"since":"x"}` + "\n", "\xff\n", `{"cmd":` + "\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		server, client := net.Pipe()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan struct{})
		o := newServeOpts(nil)
		go func() {
			serveConn(ctx, server, func(ctx context.Context, req Request, send func(any) error) error {
				return send(req.Name)
			}, slog.New(slog.DiscardHandler), &o, &conns{byUID: map[uint32]int{}})
			close(done)
		}()
		go func() {
			client.Write(data)
			client.Write([]byte("\n"))
		}()
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		var out bytes.Buffer
		bufio.NewReader(client).WriteTo(&out)
		client.Close()
		<-done
	})
}

// FuzzFrames: lines from a machine's control port; parsing is bounded.
func FuzzFrames(f *testing.F) {
	for _, s := range []string{`{"s":1,"r":{"done":true}}` + "\n", `{"s":0}` + "\n\n", "x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for {
			line, err := ReadFrameLine(br)
			if err != nil {
				return
			}
			if len(line) > MaxFrame {
				t.Fatalf("line of %d bytes", len(line))
			}
		}
	})
}
