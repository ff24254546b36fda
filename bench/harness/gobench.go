package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// goBenchPackages are the standard packages whose benchmarks make the
// third input set: Go's own CPU profiles, as `go test -bench .
// -cpuprofile` writes them at the default -benchtime (gzip, real stacks of
// real code, one test binary each). They are what a user would merge: the
// whole benchmark suite of packages with many benchmarks, of different
// kinds (sorting, parsing, searching, reflection, regular expressions,
// compression), not picked for how fast pgofetch reads them.
var goBenchPackages = []string{"sort", "strconv", "strings", "bytes", "encoding/json", "regexp", "compress/flate"}

// goBenchProfiles makes (once, cached under work) a CPU profile of each
// package's benchmarks and returns their paths. tiny runs each benchmark
// once (-benchtime 1x), for the harness's own test.
func goBenchProfiles(work string, tiny bool) ([]string, error) {
	var extra []string
	dir := filepath.Join(work, "gobench")
	if tiny {
		extra = []string{"-benchtime", "1x"}
		dir += "-1x"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, pkg := range goBenchPackages {
		f := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "_")+".pprof")
		files = append(files, f)
		if _, err := os.Stat(f); err == nil {
			continue
		}
		progress("Go's benchmark CPU profiles: go test -bench . %s (once; all seven take about 40 minutes)", pkg)
		start := time.Now()
		tmp := f + ".tmp"
		args := append([]string{"test", "-run", "^$", "-bench", "."}, extra...)
		cmd := exec.Command("go", append(args, "-cpuprofile", tmp, pkg)...)
		cmd.Dir = dir // where go test leaves the test binary
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go test -cpuprofile %s: %v\n%s", pkg, err, tail(string(out)))
		}
		if err := os.Rename(tmp, f); err != nil {
			return nil, err
		}
		progress("  %s: %s", pkg, time.Since(start).Round(time.Second))
	}
	return files, nil
}
