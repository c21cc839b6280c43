package fleet

import (
	"time"

	"github.com/unit-os/unit/api"
)

// What the status bucket holds: each node's own word on itself, and
// the operators' maintenance marks.

// NodeStatus is what a node says about itself in StatusBucket, under
// StatusKey: its facts, the verdict of `unit health` on it, the layers it
// applied. It is published when it changes (an event from unit, a layer
// written), never on a timer.
type NodeStatus struct {
	Node  string            `json:"node"`
	Facts map[string]string `json:"facts,omitempty"`
	// State is the worst of Items (api.OK ... api.Unknown).
	State int `json:"state"`
	// Items are the things judged that are not OK.
	Items    []api.HealthItem `json:"items,omitempty"`
	Services int              `json:"services"`
	Release  string           `json:"release,omitempty"`
	// Layers are the revisions of the layers applied, by key.
	Layers map[string]uint64 `json:"layers,omitempty"`
	Time   time.Time         `json:"time"`
}

// Maintenance is an operator's note that a node is not to be alerted on
// (unit-fleet disable), under MaintenanceKey in StatusBucket.
type Maintenance struct {
	Reason string    `json:"reason,omitempty"`
	Time   time.Time `json:"time"`
}
