package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Below these, a profile is thin: too few samples for the hot call edges to
// stand out from sampling noise (the example's 85-sample profile bought
// half of what a 1,000-sample one did), or a service that was mostly idle
// or starved of CPU while it was profiled.
const (
	thinSamples = 500
	thinCores   = 1.0
)

type profileInfo struct {
	path     string
	samples  int64
	cpu      time.Duration
	duration time.Duration
}

func readProfile(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return p, nil
}

// valueIndex is the index of a sample type in a CPU profile: "samples"
// (count) or "cpu" (nanoseconds); -1 when absent.
func valueIndex(p *profile.Profile, typ string) int {
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	return -1
}

func describeProfile(path string) (*profileInfo, error) {
	p, err := readProfile(path)
	if err != nil {
		return nil, err
	}
	info := &profileInfo{path: path, duration: time.Duration(p.DurationNanos)}
	si, ci := valueIndex(p, "samples"), valueIndex(p, "cpu")
	for _, s := range p.Sample {
		if si >= 0 {
			info.samples += s.Value[si]
		}
		if ci >= 0 {
			info.cpu += time.Duration(s.Value[ci])
		}
	}
	// A profile trimmed for PGO may keep the sample counts alone: each
	// sample then stands for one sampling period of CPU time.
	if ci < 0 && p.PeriodType != nil && p.PeriodType.Unit == "nanoseconds" {
		info.cpu = time.Duration(info.samples * p.Period)
	}
	return info, nil
}

func printProfile(info *profileInfo) {
	cores := 0.0
	if info.duration > 0 {
		cores = info.cpu.Seconds() / info.duration.Seconds()
	}
	fmt.Printf("profile: %d samples, %s of CPU in %s (%.1f CPU cores busy on average)\n",
		info.samples, seconds(info.cpu), seconds(info.duration), cores)
	if info.samples < thinSamples {
		fmt.Printf("  WARNING: a thin profile (under %d samples): PGO picks its hot call edges from\n", thinSamples)
		fmt.Println("  sampling noise; profile longer, under more load, or merge several profiles.")
	}
	if info.duration > 0 && cores < thinCores {
		fmt.Println("  WARNING: the service used under one CPU core while profiled: idle or starved,")
		fmt.Println("  its profile may not show the paths that cost CPU under real load.")
	}
}

// An edge is a call from one function to another, by name. Names, not
// addresses or lines, so that profiles of differently built binaries (with
// and without PGO, production and test) match; inlined calls count as
// calls, as pprof expands them into frames.
type edge struct{ caller, callee string }

// frames returns the functions of a stack's locations, innermost first,
// inlined frames included; runtime.asyncPreempt, where a preemption signal
// interrupted the code, is left out: it is no call the code makes.
func frames(locs []*profile.Location) []string {
	var fs []string
	for _, loc := range locs {
		for _, l := range loc.Line {
			if l.Function != nil && l.Function.Name != "runtime.asyncPreempt" {
				fs = append(fs, l.Function.Name)
			}
		}
	}
	return fs
}

// pgoEdges returns the call edges Go's PGO weighs for a sample: those
// between the frames of its two innermost locations, inlined frames
// included, each once (cmd/internal/pgo builds its graph so).
func pgoEdges(s *profile.Sample) []edge {
	locs := s.Location
	if len(locs) > 2 {
		locs = locs[:2]
	}
	fs := frames(locs)
	var es []edge
	for k := 0; k+1 < len(fs); k++ {
		e := edge{fs[k+1], fs[k]}
		if e.caller != e.callee && !slices.Contains(es, e) {
			es = append(es, e)
		}
	}
	return es
}

type weighted struct {
	edge
	weight int64
}

type coverage struct {
	share        float64    // of the hot edges' weight, the part the benchmarks ran
	hot          int        // number of hot edges
	missed       []weighted // the heaviest hot edges the benchmarks never ran
	total        int64      // the hot edges' weight
	benchProfile string     // the benchmarks' merged CPU profile
	benchSamples int64      // its samples
}

// benchCoverage profiles the benchmarks (the -pgo=off binaries, a few
// times the iterations of a measured run) and returns how much of the
// profile's hot call-edge weight they exercised. Hot edges are those PGO
// acts on: Go's compiler weighs the calls at a sample's innermost end
// (pgoEdges) and takes the heaviest edges up to 99 % of the total weight
// as hot call sites. An edge is
// exercised when the benchmarks' profile shows that call anywhere on a
// stack, not only at the leaf, so short benchmark profiles still count it.
func benchCoverage(cfg *config, pkgs []*pkg) (*coverage, error) {
	_, subBench, _ := strings.Cut(cfg.bench, "/")
	var profs []*profile.Profile
	for i, p := range pkgs {
		for j, b := range p.benches {
			// About 2 s of CPU per package, some 200 samples: an edge
			// of 2 % of the benchmarks' CPU is then missed by chance
			// once in 50 runs (one of 1 %, once in 8).
			n := p.iters[b] * 10
			if cfg.cpuPerRun > 0 {
				n = max(1, int(float64(p.iters[b])*float64(2*time.Second)/float64(cfg.cpuPerRun)/float64(len(p.benches))))
			}
			path := filepath.Join(cfg.out, fmt.Sprintf("%d-%d.pprof", i, j))
			fmt.Fprintf(os.Stderr, "pgo-compare: %s: profiling %s for the coverage\n", p.importPath, b)
			if _, _, err := runOnce(p, p.off, b, subBench, n, 0, "-test.cpuprofile="+path); err != nil {
				return nil, err
			}
			bp, err := readProfile(path)
			if err != nil {
				return nil, err
			}
			profs = append(profs, bp)
		}
	}
	bench, err := profile.Merge(profs)
	if err != nil {
		return nil, fmt.Errorf("merging the benchmarks' profiles: %v", err)
	}
	c := &coverage{benchProfile: filepath.Join(cfg.out, "bench.pprof")}
	f, err := os.Create(c.benchProfile)
	if err != nil {
		return nil, err
	}
	if err := bench.Write(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}

	ran := map[edge]bool{}
	si := valueIndex(bench, "samples")
	for _, s := range bench.Sample {
		if si >= 0 {
			c.benchSamples += s.Value[si]
		}
		fs := frames(s.Location)
		for k := 0; k+1 < len(fs); k++ {
			ran[edge{fs[k+1], fs[k]}] = true
		}
	}
	prod, err := readProfile(cfg.profile)
	if err != nil {
		return nil, err
	}
	vi := valueIndex(prod, "cpu")
	if vi < 0 {
		vi = len(prod.SampleType) - 1
	}
	weights := map[edge]int64{}
	var all int64
	for _, s := range prod.Sample {
		for _, e := range pgoEdges(s) {
			weights[e] += s.Value[vi]
			all += s.Value[vi]
		}
	}
	var edges []weighted
	for e, w := range weights {
		edges = append(edges, weighted{e, w})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].weight != edges[j].weight {
			return edges[i].weight > edges[j].weight
		}
		return edges[i].caller+edges[i].callee < edges[j].caller+edges[j].callee
	})
	var covered int64
	for _, e := range edges {
		if c.total >= all*99/100 {
			break
		}
		c.total += e.weight
		c.hot++
		if ran[e.edge] {
			covered += e.weight
		} else if len(c.missed) < 3 {
			c.missed = append(c.missed, e)
		}
	}
	if c.total > 0 {
		c.share = float64(covered) / float64(c.total)
	}
	return c, nil
}

func printCoverage(c *coverage) {
	if c.hot == 0 {
		fmt.Println("coverage: the profile has no call edges")
		return
	}
	fmt.Printf("coverage: the benchmarks ran %.0f %% of the profile's hot call-edge weight (%d hot edges)\n",
		100*c.share, c.hot)
	if len(c.missed) > 0 {
		fmt.Printf("  the heaviest they did not run (in %d samples of theirs; a light edge can be missed by chance):\n", c.benchSamples)
	}
	for _, m := range c.missed {
		fmt.Printf("    %s -> %s (%.1f %%)\n", m.caller, m.callee, 100*float64(m.weight)/float64(c.total))
	}
	if c.share < 0.5 {
		fmt.Println("  the benchmarks miss most of what PGO optimises in production: expect a smaller gain here than there")
	}
}
