package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// benchstatVersion is the golang.org/x/perf version installed when no
// -benchstat binary is given: pinned, so the tables do not change under
// the user.
const benchstatVersion = "v0.0.0-20260908200009-22c9c6c9d4da"

// findBenchstat returns the benchstat binary: the one given, else one
// installed once from the Go module proxy into the user's cache directory.
func findBenchstat(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for benchstat (give -benchstat): %v", err)
	}
	dir := filepath.Join(cache, "pgofetch", "benchstat@"+benchstatVersion)
	bin := filepath.Join(dir, "benchstat")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "pgo-compare: installing benchstat %s into %s\n", benchstatVersion, dir)
	cmd := exec.Command("go", "install", "golang.org/x/perf/cmd/benchstat@"+benchstatVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install golang.org/x/perf/cmd/benchstat@%s: %v (offline? give -benchstat PATH)", benchstatVersion, err)
	}
	return bin, nil
}

// A row is benchstat's verdict on one benchmark's CPU time per op.
type row struct {
	pkg, name string
	delta     string // "-3.69%", or "~" when not significant
	p         string // "p=0.000 n=10"
}

// compare runs benchstat on the two result files: its table for the
// user, and its CSV for the payoff line (benchstat's own figures, read,
// not recomputed).
func compare(benchstat, dir string) (string, []row, error) {
	bs := func(format string) ([]byte, error) {
		cmd := exec.Command(benchstat, "-format", format, "pgo-off", "pgo-on")
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("benchstat: %v", err)
		}
		return out, nil
	}
	table, err := bs("text")
	if err != nil {
		return "", nil, err
	}
	out, err := bs("csv")
	if err != nil {
		return "", nil, err
	}
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return "", nil, fmt.Errorf("benchstat -format csv: %v", err)
	}
	var rows []row
	var pkg, unit string
	for _, rec := range recs {
		switch {
		case len(rec) == 1 && strings.HasPrefix(rec[0], "pkg: "):
			pkg = strings.TrimPrefix(rec[0], "pkg: ")
		case len(rec) >= 7 && rec[0] == "" && rec[2] == "CI":
			unit = rec[1]
		case len(rec) >= 7 && rec[0] != "" && unit == cpuUnit:
			rows = append(rows, row{pkg: pkg, name: rec[0], delta: rec[5], p: rec[6]})
		}
	}
	return string(table), rows, nil
}

// printPayoff prints one line per benchmark, and the geometric mean's when
// there are several.
func printPayoff(rows []row, rounds int) {
	if len(rows) == 0 {
		fmt.Println("PGO: benchstat gave no CPU-time comparison")
		return
	}
	for _, r := range rows {
		if r.name == "geomean" {
			if len(rows) > 2 {
				fmt.Printf("PGO: %s CPU per op, geometric mean of the benchmarks above\n", r.delta)
			}
			continue
		}
		where := "Benchmark" + r.name
		if r.pkg != "" {
			where += " in " + r.pkg
		}
		p := strings.Replace(r.p, " n=", ", n=", 1)
		if r.delta == "~" {
			fmt.Printf("PGO: no significant difference in CPU per op (%s; %s)\n", where, p)
		} else {
			fmt.Printf("PGO: %s CPU per op (%s; %s)\n", r.delta, where, p)
		}
	}
}

// loadAverage returns the 1-minute load average, or -1 where the system
// does not say (it is read from /proc, i.e. on Linux).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// goVersion is the version of the go command that builds the binaries.
func goVersion(cfg *config) string {
	out, err := goCmd(cfg, "env", "GOVERSION").Output()
	if err != nil {
		return "go (version unknown)"
	}
	return strings.TrimSpace(string(out))
}

func printLoad(goVersion string, start, end float64) {
	cpus := runtime.NumCPU()
	if start < 0 || end < 0 {
		fmt.Printf("%s on %d CPUs (load average unknown)\n", goVersion, cpus)
		return
	}
	fmt.Printf("%s on %d CPUs, load average %.1f at the start, %.1f at the end\n", goVersion, cpus, start, end)
	if max(start, end) > float64(cpus) {
		fmt.Println("  the machine is busy: sec/op (wall time) is not comparable between runs here;")
		fmt.Println("  read cpu-sec/op (user+sys CPU time of each run, from the OS). For a figure")
		fmt.Println("  without setup and process start, have the benchmark report its own CPU time")
		fmt.Println("  per op with b.ReportMetric (docs/payoff.md).")
	}
}

func printBuildCost(c *buildCost) {
	pkgs := strings.Join(c.pkgs, " ")
	fmt.Printf("build cost: go build -a %s: %s without the profile, %s with it (one build each)\n",
		pkgs, c.off, c.pgo)
	if c.newProfileFrom == "" {
		fmt.Printf("build cost: an unchanged rebuild with the profile: %s\n", c.unchanged)
		return
	}
	fmt.Printf("build cost: after a new profile %s, the profile recompiles every package; an unchanged rebuild %s\n",
		c.newProfile, c.unchanged)
}
