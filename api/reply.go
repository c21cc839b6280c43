package api

import "unit/supervise"

// StatusReply answers `status`: the services and, while the config on disk
// is invalid (the last good one keeps running), its error as file:line.
type StatusReply struct {
	ConfigError string             `json:"config_error,omitempty"`
	Services    []supervise.Status `json:"services"`
}
