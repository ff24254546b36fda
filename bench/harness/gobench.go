package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// goBenchPackages are the standard packages whose benchmarks make the
// third input set: Go's own CPU profiles, as `go test -cpuprofile` writes
// them (gzip, real stacks of real code, one binary each).
var goBenchPackages = []string{"sort", "strconv", "strings"}

// goBenchProfiles makes (once, cached under work) a CPU profile of each
// package's benchmarks and returns their paths.
func goBenchProfiles(work string, tiny bool) ([]string, error) {
	benchtime := "100ms"
	if tiny {
		benchtime = "1x"
	}
	dir := filepath.Join(work, "gobench-"+benchtime)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for i, pkg := range goBenchPackages {
		f := filepath.Join(dir, fmt.Sprintf("%d.pprof", i))
		files = append(files, f)
		if _, err := os.Stat(f); err == nil {
			continue
		}
		progress("Go's benchmark CPU profiles: go test -bench . %s", pkg)
		tmp := f + ".tmp"
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchtime", benchtime, "-cpuprofile", tmp, pkg)
		cmd.Dir = dir // where go test leaves the test binary
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go test -cpuprofile %s: %v\n%s", pkg, err, tail(string(out)))
		}
		if err := os.Rename(tmp, f); err != nil {
			return nil, err
		}
	}
	return files, nil
}
