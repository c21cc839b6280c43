package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentFactsFollowUnitState: the agent reads the platform facts of
// the daemon that runs it, STATE/platform.json with STATE its UNIT_STATE
// (`unit run --state DIR`), not always /run/unit's. A node id from those
// facts that is not one shows which file was read, before any broker.
func TestAgentFactsFollowUnitState(t *testing.T) {
	state := t.TempDir()
	if err := os.WriteFile(filepath.Join(state, "platform.json"), []byte(`{"instance_id":"not a node id"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNIT_STATE", state)
	t.Setenv("UNIT_SOCKET", filepath.Join(state, "no-daemon.sock"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	err := agentCmd(context.Background(), log, []string{"--imds", "off", "--state", t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `node id "not a node id"`) {
		t.Fatalf("agent with UNIT_STATE=%s: got %v, want the node id from its platform.json", state, err)
	}
}
