package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/fleet"
)

// Known is what the status bucket says about the fleet: each node's last
// status and the nodes in maintenance.
type Known struct {
	Status      map[string]fleet.NodeStatus
	Maintenance map[string]fleet.Maintenance
}

// ReadStatus reads the whole status bucket in one ordered watch (the
// last value of each key; one request, not one per node).
func ReadStatus(ctx context.Context, kv jetstream.KeyValue) (*Known, error) {
	k := &Known{Status: map[string]fleet.NodeStatus{}, Maintenance: map[string]fleet.Maintenance{}}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", fleet.StatusBucket, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("read %s: the watch ended", fleet.StatusBucket)
			}
			if e == nil {
				return k, nil
			}
			if n, ok := strings.CutPrefix(e.Key(), "node."); ok {
				var ns fleet.NodeStatus
				if json.Unmarshal(e.Value(), &ns) == nil && ns.Node == n {
					k.Status[n] = ns
				}
			} else if n, ok := strings.CutPrefix(e.Key(), "maintenance."); ok {
				var m fleet.Maintenance
				_ = json.Unmarshal(e.Value(), &m)
				k.Maintenance[n] = m
			}
		}
	}
}

// Expected are the nodes whose last status matches where: the ones that
// should answer a fan-out with that filter.
func (k *Known) Expected(where map[string]string) []string {
	var out []string
	for n, ns := range k.Status {
		facts := map[string]string{"node": n}
		for f, v := range ns.Facts {
			facts[f] = v
		}
		if fleet.Matches(facts, where) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Verdict is the aggregated check of a fleet: one item per node; nodes
// in maintenance are apart.
type Verdict struct {
	Nodes       []api.HealthItem `json:"nodes"`
	Maintenance []string         `json:"maintenance,omitempty"`
	Took        time.Duration    `json:"took"`
}

// Check judges every node matching where: its published state, or
// UNKNOWN if it is expected (it published a status) but does not answer
// a ping within the sliding window, or answers but never published.
func Check(ctx context.Context, nc *nats.Conn, kv jetstream.KeyValue, sg *fleet.Signer, where map[string]string, window, limit time.Duration) (*Verdict, error) {
	start := time.Now()
	known, err := ReadStatus(ctx, kv)
	if err != nil {
		return nil, err
	}
	expected := known.Expected(where)
	req := fleet.Request{Cmd: "ping", Where: where}
	if sg != nil {
		if err := sg.Sign(&req); err != nil {
			return nil, err
		}
	}
	res, err := Ask(ctx, nc, req, window, limit, expected, nil)
	if err != nil {
		return nil, err
	}
	answered := map[string]bool{}
	for _, r := range res.Replies {
		answered[r.Node] = true
	}
	v := &Verdict{}
	for _, n := range expected {
		if _, off := known.Maintenance[n]; off {
			v.Maintenance = append(v.Maintenance, n)
			continue
		}
		ns := known.Status[n]
		it := api.HealthItem{Name: n, State: ns.State, Detail: summary(ns)}
		if !answered[n] {
			it.State, it.Detail = api.Unknown, fmt.Sprintf("silent: did not answer (last status %s, %s)", ns.Time.Format(time.RFC3339), api.StateNames[min(max(ns.State, 0), 3)])
		}
		v.Nodes = append(v.Nodes, it)
	}
	for _, r := range res.Replies {
		if _, ok := known.Status[r.Node]; !ok {
			if _, off := known.Maintenance[r.Node]; !off {
				v.Nodes = append(v.Nodes, api.HealthItem{Name: r.Node, State: api.Unknown, Detail: "answers but has published no status"})
			}
		}
	}
	v.Took = time.Since(start)
	return v, nil
}

// summary is a node's non-OK items on one line.
func summary(ns fleet.NodeStatus) string {
	if ns.State < api.OK || ns.State > api.Unknown {
		return "an unknown state"
	}
	if len(ns.Items) == 0 {
		return fmt.Sprintf("%d services", ns.Services)
	}
	var parts []string
	for _, it := range ns.Items {
		parts = append(parts, fmt.Sprintf("%s %s", it.Name, it.Detail))
	}
	return strings.Join(parts, "; ")
}

// Print writes the verdict as a Nagios plugin (the nodes behind each
// state that is not OK after the first line, perfdata with the
// maintenance count and the time) and returns the exit code.
func (v *Verdict) Print(w io.Writer) int {
	nodes := v.Nodes
	for i := range nodes {
		if nodes[i].State < api.OK || nodes[i].State > api.Unknown {
			nodes[i].State = api.Unknown
		}
	}
	code := api.PrintHealth(w, nodes, fmt.Sprintf(" maintenance=%d took=%dms", len(v.Maintenance), v.Took.Milliseconds()))
	if len(v.Maintenance) > 0 {
		fmt.Fprintf(w, "maintenance (not alerted on): %s\n", strings.Join(v.Maintenance, " "))
	}
	return code
}
