package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The host end of a machine's control port: a client sends its request in
// a frame with its session id and takes only its own session's replies;
// stale frames of an earlier client, garbage and overlong lines are
// skipped; closing sends an end frame.
func TestMachineSession(t *testing.T) {
	dir := t.TempDir()
	if err := EnsureMachineDir(dir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", MachineSocket(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []Frame, 1)
	go func() { // the guest
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var frames []Frame
		line, _ := ReadFrameLine(br)
		var f Frame
		json.Unmarshal(line, &f)
		frames = append(frames, f)
		reply := func(id uint64, r string) {
			b, _ := json.Marshal(Frame{S: id, R: json.RawMessage(r)})
			c.Write(append(b, '\n'))
		}
		reply(f.S+2, `{"data":"stale"}`)
		c.Write([]byte("not json\n"))
		c.Write([]byte(strings.Repeat("x", MaxFrame+10) + "\n"))
		reply(f.S, `{"data":"mine"}`)
		reply(f.S, `{"done":true}`)
		if line, err := ReadFrameLine(br); err == nil {
			var end Frame
			json.Unmarshal(line, &end)
			frames = append(frames, end)
		}
		got <- frames
	}()
	var data []string
	err = Call(context.Background(), MachinePrefix+dir, Request{Cmd: "status"}, func(b json.RawMessage) error {
		var s string
		json.Unmarshal(b, &s)
		data = append(data, s)
		return nil
	})
	if err != nil || len(data) != 1 || data[0] != "mine" {
		t.Fatalf("Call = %v, data %q; want only this session's reply", err, data)
	}
	frames := <-got
	if len(frames) != 2 || frames[0].S == 0 || !strings.Contains(string(frames[0].Req), `"cmd":"status"`) || !frames[1].End || frames[1].S != frames[0].S {
		t.Errorf("guest saw %+v; want the request then an end frame of one session", frames)
	}
}

// The host directory of the control socket must be private.
func TestEnsureMachineDirRefusesOpenDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := EnsureMachineDir(dir); err == nil || !strings.Contains(err.Error(), "want a directory with mode 0700") {
		t.Errorf("EnsureMachineDir with a 0755 run dir: %v", err)
	}
	if err := Call(context.Background(), MachinePrefix+t.TempDir(), Request{Cmd: "status"}, nil); err == nil || !strings.Contains(err.Error(), "is it running, booted by `unit image run") {
		t.Errorf("Call to no machine: %v", err)
	}
}
