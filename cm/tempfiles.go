package cm

import "path/filepath"

// sweepFor removes, once per directory and process, the temp files of
// writers that are gone (killed mid-apply) from the directory of path.
func (e *env) sweepFor(path string) {
	if n := e.temps.Sweep(filepath.Dir(path)); n > 0 && e.log != nil {
		e.log.Info("cm: removed temporary files of a writer that is gone", "dir", filepath.Dir(path), "files", n)
	}
}
