// Command pgo-compare measures what PGO buys a Go package: its benchmarks
// run as two test binaries, built with -pgo=off and with the profile, in
// alternating rounds on the CPU time each run used (user+sys, from the OS),
// compared by benchstat; plus what the profile costs the build. Every build
// integration of pgofetch calls it, so this logic exists once.
//
//	go -C integrations/pgo-compare run . -dir MODULE_DIR -profile default.pgo [flags] [packages]
//
// Packages default to ./... (relative to -dir); packages without benchmarks
// matching -bench are left out. With -binaries OFF,PGO it runs two test
// binaries another build system made (Bazel) instead of building any. The exit status is 0 when at least one
// benchmark was compared, 1 when none could be, 2 on a usage error.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A sample of the metric is user+sys CPU seconds per op of one run.
const cpuUnit = "cpu-sec/op"

type config struct {
	dir       string        // the module directory the go commands run in
	profile   string        // absolute path of the CPU profile
	patterns  []string      // packages to benchmark
	bench     string        // -test.bench regexp
	cpuPerRun time.Duration // CPU time each run aims at (0 with iters set)
	iters     int           // fixed iterations per run, from -benchtime Nx
	rounds    int
	build     []string // packages for the build-cost line; none: skipped
	benchstat string   // benchstat binary; empty: installed on first use
	binaries  []string // a prebuilt pair of test binaries: without, with PGO
	out       string   // where the result files go
	coverage  bool
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgo-compare: %v\n", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "pgo-compare: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("pgo-compare", flag.ContinueOnError)
	cfg := &config{}
	fs.StringVar(&cfg.dir, "dir", ".", "module `directory` the packages are in")
	fs.StringVar(&cfg.profile, "profile", "", "CPU profile to build with (relative to -dir)")
	fs.StringVar(&cfg.bench, "bench", ".", "benchmarks to run (`regexp`, as go test -bench)")
	benchtime := fs.String("benchtime", "0.2s", "CPU time per run (a duration), or a fixed count of iterations (Nx)")
	fs.IntVar(&cfg.rounds, "count", 10, "rounds, each running both variants (at least 6 for benchstat's test)")
	build := fs.String("build", "", "packages the build-cost line builds (default: the benchmarked ones; \"none\" to skip)")
	fs.StringVar(&cfg.benchstat, "benchstat", "", "benchstat `binary` (default: installed once from the Go module proxy)")
	fs.StringVar(&cfg.out, "o", "", "`directory` to keep the binaries and result files in (default: a temporary one)")
	binaries := fs.String("binaries", "", "`OFF,PGO`: two test binaries already built without and with the profile, run in -dir instead of building the packages")
	fs.BoolVar(&cfg.coverage, "coverage", true, "report how much of the profile's hot call edges the benchmarks exercised")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.profile == "" {
		return nil, fmt.Errorf("-profile is required")
	}
	if cfg.rounds < 6 {
		return nil, fmt.Errorf("-count %d: benchstat needs at least 6 rounds to tell a difference", cfg.rounds)
	}
	if n, ok := strings.CutSuffix(*benchtime, "x"); ok {
		if _, err := fmt.Sscan(n, &cfg.iters); err != nil || cfg.iters < 1 {
			return nil, fmt.Errorf("-benchtime %q: want a duration or Nx", *benchtime)
		}
	} else if d, err := time.ParseDuration(*benchtime); err != nil || d <= 0 {
		return nil, fmt.Errorf("-benchtime %q: want a duration or Nx", *benchtime)
	} else {
		cfg.cpuPerRun = d
	}
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return nil, err
	}
	cfg.dir = dir
	if !filepath.IsAbs(cfg.profile) {
		cfg.profile = filepath.Join(cfg.dir, cfg.profile)
	}
	if _, err := os.Stat(cfg.profile); err != nil {
		return nil, fmt.Errorf("-profile: %v", err)
	}
	cfg.patterns = fs.Args()
	if len(cfg.patterns) == 0 {
		cfg.patterns = []string{"./..."}
	}
	if *binaries != "" {
		off, pgo, ok := strings.Cut(*binaries, ",")
		if !ok || off == "" || pgo == "" || len(fs.Args()) > 0 {
			return nil, fmt.Errorf("-binaries wants OFF,PGO and no packages")
		}
		for _, b := range []string{off, pgo} {
			abs, err := filepath.Abs(b)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(abs); err != nil {
				return nil, fmt.Errorf("-binaries: %v", err)
			}
			cfg.binaries = append(cfg.binaries, abs)
		}
	}
	switch *build {
	case "":
		if cfg.binaries == nil {
			cfg.build = cfg.patterns
		}
	case "none":
	default:
		cfg.build = strings.Fields(*build)
	}
	return cfg, nil
}

func run(cfg *config) error {
	if cfg.out == "" {
		tmp, err := os.MkdirTemp("", "pgo-compare-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cfg.out = tmp
	} else if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	benchstat, err := findBenchstat(cfg.benchstat)
	if err != nil {
		return err
	}
	prof, err := describeProfile(cfg.profile)
	if err != nil {
		return err
	}
	loadStart := loadAverage()

	var pkgs []*pkg
	if cfg.binaries != nil {
		pkgs, err = givenPair(cfg)
	} else {
		pkgs, err = buildPairs(cfg)
	}
	if err != nil {
		return err
	}
	if err := measure(cfg, pkgs); err != nil {
		return err
	}
	loadEnd := loadAverage()
	table, rows, err := compare(benchstat, cfg.out)
	if err != nil {
		return err
	}
	var cov *coverage
	if cfg.coverage {
		if cov, err = benchCoverage(cfg, pkgs); err != nil {
			fmt.Fprintf(os.Stderr, "pgo-compare: coverage not measured: %v\n", err)
		}
	}
	var cost *buildCost
	if len(cfg.build) > 0 {
		if cost, err = measureBuildCost(cfg, cov); err != nil {
			fmt.Fprintf(os.Stderr, "pgo-compare: build cost not measured: %v\n", err)
		}
	}

	fmt.Println()
	fmt.Print(table)
	fmt.Println()
	printLoad(goVersion(cfg), loadStart, loadEnd)
	printProfile(prof)
	if cov != nil {
		printCoverage(cov)
	}
	printPayoff(rows, cfg.rounds)
	if cost != nil {
		printBuildCost(cost)
	}
	return nil
}
