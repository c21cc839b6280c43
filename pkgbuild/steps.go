package pkgbuild

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Paths inside the sandbox. They never vary, which is half of what makes
// builds reproducible (-ffile-prefix-map does the rest for debug info).
const (
	sbBuild   = "/build"
	sbSrc     = "/build/src"
	sbOut     = "/out"
	sbDeps    = "/deps"
	sbGoSrc   = "/gosrc"   // the fetched module cache, read-only
	sbGoCache = "/gocache" // Go's build cache, shared between builds
)

// DefaultEpoch is SOURCE_DATE_EPOCH for builds and the mtime of every file
// in a keg when the recipe does not set one: 1980-01-01, which zip and
// other formats can represent.
const DefaultEpoch = 315532800

// buildSteps is what the builder runs: the builder's own steps, then the
// recipe's steps.
func buildSteps(r *Recipe) [][]string {
	jobs := strconv.Itoa(runtime.NumCPU())
	var steps [][]string
	switch r.Builder {
	case "autotools":
		steps = append(steps,
			append([]string{"./configure", "--prefix=/usr"}, r.Configure...),
			append([]string{"make", "-j" + jobs}, r.MakeArgs...),
			append([]string{"make", "install", "DESTDIR=" + sbOut}, r.MakeArgs...))
	case "make":
		steps = append(steps,
			append([]string{"make", "-j" + jobs, "PREFIX=/usr"}, r.MakeArgs...),
			append([]string{"make", "install", "DESTDIR=" + sbOut, "PREFIX=/usr"}, r.MakeArgs...))
	case "go":
		for _, s := range r.Sources {
			if s.GoMod != "" {
				steps = append(steps, []string{"go", "install", "-trimpath", "-ldflags=-s -w -buildid=", s.GoMod})
			}
		}
	}
	return append(steps, r.Steps...)
}

// buildEnv is the whole environment of a build: nothing from the host.
func buildEnv(r *Recipe, depNames []string) []string {
	path := []string{}
	for _, d := range depNames {
		path = append(path, sbDeps+"/"+d+"/usr/bin", sbDeps+"/"+d+"/bin")
	}
	path = append(path, "/usr/local/go/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin")
	flags := "-O2 -ffile-prefix-map=" + sbBuild + "=."
	env := map[string]string{
		"PATH":              strings.Join(path, ":"),
		"HOME":              "/home/build",
		"TMPDIR":            "/tmp",
		"USER":              "build",
		"LC_ALL":            "C",
		"TZ":                "UTC",
		"SOURCE_DATE_EPOCH": strconv.Itoa(DefaultEpoch),
		"OUT":               sbOut,
		"SRC":               sbSrc,
		"JOBS":              strconv.Itoa(runtime.NumCPU()),
		"CFLAGS":            flags,
		"CXXFLAGS":          flags,
		"CGO_ENABLED":       "0",
		"GOTOOLCHAIN":       "local",
		"GOFLAGS":           "-mod=mod -trimpath",
		"GOPROXY":           "file://" + sbGoSrc + "/cache/download",
		"GOSUMDB":           "off", // checked when fetched, outside
		"GOMODCACHE":        sbBuild + "/gomod",
		"GOCACHE":           sbGoCache,
		"GOBIN":             sbOut + "/usr/bin",
	}
	var cpath, lib, pc []string
	for _, d := range depNames {
		cpath = append(cpath, sbDeps+"/"+d+"/usr/include")
		lib = append(lib, sbDeps+"/"+d+"/usr/lib")
		pc = append(pc, sbDeps+"/"+d+"/usr/lib/pkgconfig")
		env["DEP_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_", "+", "_").Replace(d))] = sbDeps + "/" + d
	}
	if len(depNames) > 0 {
		env["CPATH"] = strings.Join(cpath, ":")
		env["LIBRARY_PATH"] = strings.Join(lib, ":")
		env["PKG_CONFIG_PATH"] = strings.Join(pc, ":")
	}
	for k, v := range r.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
