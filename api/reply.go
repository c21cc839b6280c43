package api

import "github.com/unit-os/unit/supervise"

// StatusReply answers `status`: the services and, while the config on disk
// is invalid (the last good one keeps running), its error as file:line.
type StatusReply struct {
	ConfigError string             `json:"config_error,omitempty"`
	Services    []supervise.Status `json:"services"`
	// Failed are the resources (files, users, ...) whose last convergence
	// failed, with why.
	Failed []FailedResource `json:"failed,omitempty"`
	// InotifyOverflows counts the times the engine lost inotify events
	// and re-checked every resource for it.
	InotifyOverflows int64 `json:"inotify_overflows,omitempty"`
}

// FailedResource is one resource that failed to converge.
type FailedResource struct {
	Resource string `json:"resource"`
	Error    string `json:"error"`
}
