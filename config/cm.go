package config

// CM is the [cm] table: engine-wide settings.
type CM struct {
	// Audit = true reports drift everywhere without repairing anything.
	Audit bool `toml:"audit"`
	// Purge = true removes every resource dropped from the config.
	Purge bool `toml:"purge"`
	// Reports is how many convergence reports to keep (default 20).
	Reports int `toml:"reports"`
	Pos     Pos `toml:"-"`
}

func validateCM(c *CM, at func(key string) Pos) Errors {
	if c.Reports < 0 {
		return Errors{{at("reports"), "reports must not be negative"}}
	}
	return nil
}
