package config

import (
	"path"
	"strings"
)

// Metrics is the [metrics] table: opt-in Prometheus metrics.
type Metrics struct {
	// Textfile is where unit writes its metrics in Prometheus text
	// format, for node_exporter's textfile collector, whenever something
	// changes (a service's state or health, a convergence pass): a
	// machine where nothing happens writes nothing. "" writes none;
	// `unit metrics` answers either way.
	Textfile string `toml:"textfile"`
	Pos      Pos    `toml:"-"`
}

func validateMetrics(m *Metrics, at func(key string) Pos) Errors {
	if t := m.Textfile; t != "" && (!strings.HasPrefix(t, "/") || path.Clean(t) != t || !strings.HasSuffix(t, ".prom")) {
		return Errors{{at("textfile"), `textfile = "` + t + `": expected a clean absolute path ending in .prom (the textfile collector reads *.prom), e.g. "/var/lib/prometheus/node-exporter/unit.prom"`}}
	}
	return nil
}
