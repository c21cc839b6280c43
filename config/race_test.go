//go:build race

package config

// raceEnabled: the test binary runs under the race detector.
const raceEnabled = true
