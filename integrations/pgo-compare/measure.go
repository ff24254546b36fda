package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Why CPU time from the OS: on a shared machine wall time per op swings by
// tens of percent from round to round, while the user+sys CPU time of a run
// stays within about 1 %. Users' benchmarks do not report CPU time, so it is
// measured around each run (wait4's rusage, as os.ProcessState gives it) and
// divided by the iterations. For that to be per op, every run of a benchmark
// does the same fixed number of iterations (-test.benchtime=Nx): no
// calibration ramp inside the measured runs. What remains in the figure
// besides the loop — process start, the benchmark's setup, one warm-up
// iteration — is the same in both variants and only dilutes the relative
// difference a little (docs/payoff.md).

// runOnce runs one benchmark of a test binary with a fixed iteration count
// (or the user's -benchtime duration when iters is 0) and returns its output
// and the CPU time the process used.
func runOnce(p *pkg, bin, bench, subBench string, iters int, benchtime time.Duration, extra ...string) ([]byte, time.Duration, error) {
	sel := "^" + regexp.QuoteMeta(bench) + "$"
	if subBench != "" {
		sel += "/" + subBench
	}
	bt := strconv.Itoa(iters) + "x"
	if iters == 0 {
		bt = benchtime.String()
	}
	args := append([]string{"-test.run=^$", "-test.bench=" + sel, "-test.benchtime=" + bt, "-test.count=1"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = p.dir // as go test runs it: testdata/ is found
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("%s %s: %v\n%s%s", p.importPath, bench, err, stdout.Bytes(), stderr.Bytes())
	}
	st := cmd.ProcessState
	return stdout.Bytes(), st.UserTime() + st.SystemTime(), nil
}

var resultLine = regexp.MustCompile(`^(Benchmark\S*?)(-\d+)?\s+(\d+)\s`)

// results returns the benchmark result lines of a run's output and the
// smallest iteration count among them.
func results(out []byte) (lines []string, minIters int, procs string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := resultLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[3])
		if minIters == 0 || n < minIters {
			minIters = n
		}
		procs = m[2]
		lines = append(lines, sc.Text())
	}
	return lines, minIters, procs
}

// calibrate picks each benchmark's fixed iteration count: a first run with
// go test's own calibration (-benchtime as a duration) gives a count, a
// second with that count measures its CPU time, and the count is scaled to
// the CPU time wanted per run. Go's calibration aims at wall time, which a
// busy machine stretches, hence the second step. Both variants then run once
// unmeasured (warm caches, page cache).
func calibrate(cfg *config, p *pkg, subBench string) error {
	var kept []string
	for _, b := range p.benches {
		n := cfg.iters
		if n == 0 {
			out, _, err := runOnce(p, p.off, b, subBench, 0, cfg.cpuPerRun)
			if err != nil {
				return err
			}
			if _, n, _ = results(out); n == 0 {
				skipped(p, b)
				continue
			}
			_, cpu, err := runOnce(p, p.off, b, subBench, n, 0)
			if err != nil {
				return err
			}
			if cpu > 0 {
				n = max(1, int(float64(n)*float64(cfg.cpuPerRun)/float64(cpu)))
			}
		}
		out, _, err := runOnce(p, p.pgo, b, subBench, n, 0)
		if err != nil {
			return err
		}
		if lines, _, _ := results(out); len(lines) == 0 {
			skipped(p, b)
			continue
		}
		p.iters[b] = n
		kept = append(kept, b)
	}
	p.benches = kept
	return nil
}

// skipped says a benchmark is left out: it gave no result (b.Skip, or a
// -bench sub-benchmark pattern that matches none of its sub-benchmarks).
func skipped(p *pkg, bench string) {
	fmt.Fprintf(os.Stderr, "pgo-compare: %s: %s gave no result (skipped?), left out\n", p.importPath, bench)
}

// measure runs every benchmark of both variants cfg.rounds times,
// alternating which goes first, and writes benchstat's input files: the
// benchmarks' own lines plus a line with the measured CPU time per op.
func measure(cfg *config, pkgs []*pkg) error {
	_, subBench, _ := strings.Cut(cfg.bench, "/")
	n := 0
	for _, p := range pkgs {
		fmt.Fprintf(os.Stderr, "pgo-compare: %s: calibrating %s\n", p.importPath, strings.Join(p.benches, " "))
		if err := calibrate(cfg, p, subBench); err != nil {
			return err
		}
		n += len(p.benches)
	}
	if n == 0 {
		return fmt.Errorf("no benchmark gave a result")
	}
	files := map[string]*bytes.Buffer{"off": {}, "pgo": {}}
	for r := 0; r < cfg.rounds; r++ {
		fmt.Fprintf(os.Stderr, "pgo-compare: round %d of %d\n", r+1, cfg.rounds)
		order := []string{"off", "pgo"}
		if r%2 == 1 {
			order = []string{"pgo", "off"}
		}
		for _, p := range pkgs {
			for _, b := range p.benches {
				for _, variant := range order {
					bin := p.off
					if variant == "pgo" {
						bin = p.pgo
					}
					out, cpu, err := runOnce(p, bin, b, subBench, p.iters[b], 0)
					if err != nil {
						return err
					}
					lines, _, procs := results(out)
					w := files[variant]
					fmt.Fprintf(w, "pkg: %s\n", p.importPath)
					for _, l := range lines {
						fmt.Fprintln(w, l)
					}
					n := p.iters[b]
					fmt.Fprintf(w, "%s%s\t%d\t%.6g %s\n", b, procs, n, cpu.Seconds()/float64(n), cpuUnit)
				}
			}
		}
	}
	for variant, name := range map[string]string{"off": "pgo-off", "pgo": "pgo-on"} {
		if err := os.WriteFile(filepath.Join(cfg.out, name), files[variant].Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
