// Command bench measures pgofetch against what users would run instead, on
// the same inputs and machine, in one run: see README.md beside this file.
//
//	cd bench && go run ./harness [-runs 5] [-tiny] [-markdown FILE] [-results FILE] [-before BINARY]
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"pgofetch/tests/fakedd"
)

// latency is the round trip injected for the legacy path's measurement.
const latency = 100 * time.Millisecond

var (
	repoFlag = flag.String("repo", "", "the pgofetch repository (default: the parent of the working directory, bench/)")
	binFlag  = flag.String("pgofetch", "", "the pgofetch binary (default REPO/build/core/pgofetch)")
	workFlag = flag.String("work", "", "cache and scratch directory (default REPO/build/bench)")
	runs     = flag.Int("runs", 5, "runs of each program, alternating")
	tiny     = flag.Bool("tiny", false, "small inputs, for a quick check that the harness works")
	mdFile   = flag.String("markdown", "", "also write the tables to this file")
	resFile  = flag.String("results", "", "also write the floors table (bench/RESULTS.md) to this file")
	before   = flag.String("before", "", "an earlier pgofetch binary, measured beside this one for before/after numbers")
	quiet    = flag.Bool("q", false, "no progress lines")
)

func main() {
	flag.Parse()
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func progress(format string, args ...any) {
	if !*quiet {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
}

type env struct {
	repo, work, out string
	pgofetch        string
	ddpgo           string // the datadog-pgo equivalent
	pprof           string // go tool pprof's binary
	measure         string // runs each program and reports its rusage
	trim            bool   // the binary has -trim
}

func mainErr() error {
	e := &env{}
	var err error
	if e.repo = *repoFlag; e.repo == "" {
		wd, _ := os.Getwd() // bench/, where make bench runs it
		e.repo = filepath.Dir(wd)
	}
	if e.repo, err = filepath.Abs(e.repo); err != nil {
		return err
	}
	if e.pgofetch = *binFlag; e.pgofetch == "" {
		e.pgofetch = filepath.Join(e.repo, "build", "core", "pgofetch")
	}
	if e.work = *workFlag; e.work == "" {
		e.work = filepath.Join(e.repo, "build", "bench")
	}
	e.out = filepath.Join(e.work, "out")
	if err := os.MkdirAll(e.out, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(e.pgofetch); err != nil {
		return fmt.Errorf("pgofetch binary: %v (run make build)", err)
	}
	if err := e.buildTools(); err != nil {
		return err
	}
	e.trim = e.hasTrim()

	sc := bigScale
	if *tiny {
		sc = tinyScale
	}
	progress("inputs: %d profiles of %d samples (cached in %s)", sc.Profiles, sc.Samples, e.work)
	ins, err := genInputs(e.work, sc)
	if err != nil {
		return fmt.Errorf("generating inputs: %w", err)
	}
	// The legacy path's latency is measured on small profiles, so that the
	// round trips are not lost in the noise of a second of merging.
	small, err := genInputs(e.work, tinyScale)
	if err != nil {
		return fmt.Errorf("generating inputs: %w", err)
	}
	real := filepath.Join(e.repo, "core", "tests", "data", "pprof", "grpc-anon.pprof")
	if _, err := os.Stat(real); err != nil {
		return fmt.Errorf("the real profile: %w", err)
	}

	progress("starting the fake Datadog API")
	srv, slow, err := startServers(e, ins, small)
	if err != nil {
		return err
	}
	defer srv.Close()
	defer slow.Close()

	var gz, zs []string
	rawTotal := 0
	for _, in := range ins {
		gz = append(gz, in.Gzip)
		zs = append(zs, in.Zst)
		rawTotal += in.RawBytes
	}
	goBench, err := goBenchProfiles(e.work, *tiny)
	if err != nil {
		return fmt.Errorf("Go's benchmark CPU profiles: %w", err)
	}
	rep := &report{runs: *runs, sc: sc, rawTotal: rawTotal, trim: e.trim, machine: machine(), before: *before != "",
		date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if err := e.checkSame(srv); err != nil {
		return err
	}
	for _, set := range []struct {
		name, service string
		files         []string
	}{{"gzip", "bench-gz", gz}, {"zstd", "bench-zst", zs}} {
		g, err := e.endToEnd(srv, set.name, set.service, set.files)
		if err != nil {
			return err
		}
		rep.groups = append(rep.groups, g)
	}
	for _, set := range []struct {
		name  string
		files []string
	}{{"gzip", gz}, {"zstd", zs}, {"gobench", goBench}, {"real", []string{real}}} {
		g, err := e.local(set.name, set.files)
		if err != nil {
			return err
		}
		rep.groups = append(rep.groups, g)
	}
	g, err := e.legacy(srv, slow)
	if err != nil {
		return err
	}
	rep.groups = append(rep.groups, g)
	md := rep.markdown()
	fmt.Print(md)
	if *mdFile != "" {
		if err := os.WriteFile(*mdFile, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if *resFile != "" {
		return os.WriteFile(*resFile, []byte(rep.results()), 0o644)
	}
	return nil
}

func (e *env) buildTools() error {
	bin := filepath.Join(e.work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	e.ddpgo = filepath.Join(bin, "ddpgo-equivalent")
	cmd := exec.Command("go", "build", "-o", e.ddpgo, "./ddpgo-equivalent")
	cmd.Dir = filepath.Join(e.repo, "bench")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building ddpgo-equivalent: %v\n%s", err, out)
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	e.measure = filepath.Join(bin, "measure")
	cmd = exec.Command(cc, "-O2", "-o", e.measure, filepath.Join(e.repo, "bench", "measure.c"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building measure: %v\n%s", err, out)
	}
	measureBin = e.measure
	measureOut = filepath.Join(e.work, "measure.out")
	// go tool pprof's own binary, run directly: the go command in front
	// of it would add its own time.
	out, err := exec.Command("go", "tool", "-n", "pprof").Output()
	if err != nil {
		return fmt.Errorf("finding go tool pprof: %v", err)
	}
	e.pprof = strings.TrimSpace(string(out))
	return nil
}

// hasTrim tells whether the binary has a working -trim flag.
func (e *env) hasTrim() bool {
	out, _ := exec.Command(e.pgofetch, "-help").CombinedOutput()
	return strings.Contains(string(out), "-trim") && !strings.Contains(string(out), "not yet available")
}

func startServers(e *env, ins, small []input) (srv, slow *fakedd.Server, err error) {
	add := func(s *fakedd.Server, legacyOnly bool) error {
		for _, in := range small {
			data, err := os.ReadFile(in.Gzip)
			if err != nil {
				return err
			}
			if err := s.AddProfile(fakedd.Profile{ID: "small-" + in.ID, Data: data, Service: "bench-small"}); err != nil {
				return err
			}
		}
		if legacyOnly {
			return nil
		}
		for _, in := range ins {
			variants := []struct{ file, service, suffix string }{{in.Gzip, "bench-gz", ""}, {in.Zst, "bench-zst", "-zst"}}
			for _, v := range variants {
				data, err := os.ReadFile(v.file)
				if err != nil {
					return err
				}
				if err := s.AddProfile(fakedd.Profile{ID: in.ID + v.suffix, Data: data, Service: v.service}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// The slow server (the legacy path's latency) serves the small
	// profiles only. ZIP entries are stored: the profiles are compressed already, and the
	// fake server's own deflate would add to every client's wall time.
	srv, err = fakedd.Start(fakedd.Options{ZipMethod: fakedd.ZipStore, Setup: func(s *fakedd.Server) error { return add(s, false) }})
	if err != nil {
		return nil, nil, err
	}
	slow, err = fakedd.Start(fakedd.Options{ZipMethod: fakedd.ZipStore, Latency: latency, Setup: func(s *fakedd.Server) error { return add(s, true) }})
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	ca := filepath.Join(e.work, "fakedd-ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(e.work, "fakedd-slow-ca.pem"), slow.CAPEM(), 0o644); err != nil {
		return nil, nil, err
	}
	return srv, slow, nil
}

// prog is one program to measure.
type prog struct {
	name   string
	args   []string
	env    []string
	stdout string // a file for the standard output
	dest   string // removed before each run
	trim   string // "on", "off" or "" for pgofetch's rows
	peer   bool
	before bool // the earlier pgofetch (-before)
}

// sample is one run's measures.
type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
}

// measureBin runs every program (see measure.c); measureOut is where it
// writes the measures.
var measureBin, measureOut string

func runOnce(p prog) (sample, error) {
	if p.dest != "" {
		os.Remove(p.dest)
	}
	os.Remove(measureOut)
	cmd := exec.Command(measureBin, append([]string{measureOut}, p.args...)...)
	cmd.Env = append(os.Environ(), p.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if p.stdout != "" {
		f, err := os.Create(p.stdout)
		if err != nil {
			return sample{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", strings.Join(p.args, " "), err, tail(stderr.String()))
	}
	data, err := os.ReadFile(measureOut)
	if err != nil {
		return sample{}, err
	}
	var wall, user, sys, rss int64
	if _, err := fmt.Sscan(string(data), &wall, &user, &sys, &rss); err != nil {
		return sample{}, fmt.Errorf("measure: %q: %v", data, err)
	}
	return sample{wall: time.Duration(wall), cpu: time.Duration(user+sys) * time.Microsecond, rssKiB: rss}, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// group is a set of programs measured against each other, alternating.
type group struct {
	title string
	note  string
	progs []prog
	res   [][]sample // per program, per run
	// for the legacy path: the wall time added by the latency, in round trips
	roundTrips []float64
}

func (g *group) run(n int) error {
	progress("%s: %d alternating runs of %d programs", g.title, n, len(g.progs))
	g.res = make([][]sample, len(g.progs))
	for i := 0; i < n; i++ {
		for j, p := range g.progs {
			s, err := runOnce(p)
			if err != nil {
				return err
			}
			g.res[j] = append(g.res[j], s)
		}
	}
	return nil
}

func (g *group) median(j int) sample {
	var w, c, r []int64
	for _, s := range g.res[j] {
		w = append(w, int64(s.wall))
		c = append(c, int64(s.cpu))
		r = append(r, s.rssKiB)
	}
	return sample{wall: time.Duration(med(w)), cpu: time.Duration(med(c)), rssKiB: med(r)}
}

func med(xs []int64) int64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func (e *env) ddEnv(srv *fakedd.Server, ca string) []string {
	return []string{
		"DD_API_KEY=" + srv.APIKey(), "DD_APP_KEY=" + srv.AppKey(),
		"SSL_CERT_FILE=" + ca, "PGOFETCH_API_URL=" + srv.URL(), "NO_COLOR=1",
	}
}

func (e *env) trims() []string {
	if e.trim {
		return []string{"on", "off"}
	}
	return []string{""}
}

func trimArgs(t string) []string {
	switch t {
	case "on":
		return []string{"-trim=true"}
	case "off":
		return []string{"-trim=false"}
	}
	return nil
}

// beforeProg is the earlier pgofetch (-before), as p runs this one with
// -trim=on (the default), or nil.
func beforeProg(p prog) []prog {
	if *before == "" || p.trim == "off" {
		return nil
	}
	b := p
	b.name, b.before, b.trim = "pgofetch before", true, "on"
	b.args = append([]string{*before}, p.args[1:]...)
	b.dest = p.dest + ".before"
	b.args[len(b.args)-1] = b.dest
	return []prog{b}
}

// sizeOf says how many bytes the files hold in all, for a title.
func sizeOf(files []string) string {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return fmt.Sprintf("%.0f KB", float64(n)/1e3)
}

func gunzipFile(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, raw, 0o644)
}

// endToEnd: pgofetch and the datadog-pgo equivalent against the fake API.
func (e *env) endToEnd(srv *fakedd.Server, name, service string, files []string) (*group, error) {
	ca := filepath.Join(e.work, "fakedd-ca.pem")
	g := &group{title: "end to end, " + name + " profiles, gopgo endpoint on loopback (TLS)"}
	for _, t := range e.trims() {
		dest := filepath.Join(e.out, "e2e-"+name+"-pgofetch"+t+".pgo")
		g.progs = append(g.progs, prog{name: "pgofetch", trim: t, dest: dest, env: e.ddEnv(srv, ca),
			args: append(append([]string{e.pgofetch}, trimArgs(t)...), "service:"+service, dest)})
	}
	g.progs = append(g.progs, prog{name: "datadog-pgo equivalent", peer: true, env: e.ddEnv(srv, ca),
		dest: filepath.Join(e.out, "e2e-"+name+"-ddpgo.pgo"),
		args: []string{e.ddpgo, "-api-url", srv.URL(), "service:" + service, filepath.Join(e.out, "e2e-"+name+"-ddpgo.pgo")}})
	if len(g.progs) > 0 {
		g.progs = append(g.progs, beforeProg(g.progs[0])...)
	}
	return g, g.run(*runs)
}

// local: pgofetch -in … versus go tool pprof -proto … on the same files.
func (e *env) local(name string, files []string) (*group, error) {
	g := &group{title: "local files, " + name}
	switch name {
	case "real":
		g.title = "local file, the real profile (grpc-anon.pprof, one input)"
	case "gobench":
		g.title = fmt.Sprintf("local files, Go's own benchmark CPU profiles (go test -bench . -cpuprofile of %s; %s)",
			strings.Join(goBenchPackages, ", "), sizeOf(files))
	}
	for _, t := range e.trims() {
		dest := filepath.Join(e.out, "local-"+name+"-pgofetch"+t+".pgo")
		args := append([]string{e.pgofetch}, trimArgs(t)...)
		for _, f := range files {
			args = append(args, "-in", f)
		}
		g.progs = append(g.progs, prog{name: "pgofetch", trim: t, dest: dest, env: []string{"NO_COLOR=1"}, args: append(args, dest)})
	}
	pp := prog{name: "go tool pprof -proto", peer: true, stdout: filepath.Join(e.out, "local-"+name+"-pprof.pb.gz"),
		args: append([]string{e.pprof, "-proto"}, files...)}
	if _, err := runOnce(pp); err != nil {
		// pprof reads gzip and raw profiles only.
		g.note = "go tool pprof cannot read zstd profiles: no peer for this set."
	} else {
		g.progs = append(g.progs, pp)
	}
	g.progs = append(g.progs, beforeProg(g.progs[0])...)
	return g, g.run(*runs)
}

// legacy: list + 5 downloads with 100 ms injected per request, versus the
// same without latency: how many round trips the latency cost.
func (e *env) legacy(srv, slow *fakedd.Server) (*group, error) {
	g := &group{title: fmt.Sprintf("legacy path (list, then 5 downloads of small profiles), %v injected per request", latency)}
	fast := filepath.Join(e.work, "fakedd-ca.pem")
	slowCA := filepath.Join(e.work, "fakedd-slow-ca.pem")
	args := func(s string) []string {
		return []string{e.pgofetch, "-endpoint", "legacy", "service:bench-small", filepath.Join(e.out, "legacy-"+s+".pgo")}
	}
	dd := func(s *fakedd.Server, tag string) []string {
		return []string{e.ddpgo, "-legacy", "-api-url", s.URL(), "service:bench-small", filepath.Join(e.out, "legacy-ddpgo-"+tag+".pgo")}
	}
	g.progs = []prog{
		{name: "pgofetch, no latency", args: args("fast"), env: e.ddEnv(srv, fast), dest: filepath.Join(e.out, "legacy-fast.pgo")},
		{name: fmt.Sprintf("pgofetch, %v latency", latency), args: args("slow"), env: e.ddEnv(slow, slowCA), dest: filepath.Join(e.out, "legacy-slow.pgo")},
		{name: "datadog-pgo equivalent, no latency", peer: true, args: dd(srv, "fast"), env: e.ddEnv(srv, fast)},
		{name: fmt.Sprintf("datadog-pgo equivalent, %v latency", latency), peer: true, args: dd(slow, "slow"), env: e.ddEnv(slow, slowCA)},
	}
	if err := g.run(*runs); err != nil {
		return nil, err
	}
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		d := g.median(pair[1]).wall - g.median(pair[0]).wall
		g.roundTrips = append(g.roundTrips, float64(d)/float64(latency))
	}
	return g, nil
}

// checkSame checks, once, that pgofetch and the datadog-pgo equivalent
// write the same profile (without pgofetch's provenance comments and
// trimming): the comparison is of equal work.
func (e *env) checkSame(srv *fakedd.Server) error {
	ca := filepath.Join(e.work, "fakedd-ca.pem")
	a := filepath.Join(e.out, "check-pgofetch.pgo")
	b := filepath.Join(e.out, "check-ddpgo.pgo")
	args := []string{e.pgofetch, "-comment=false"}
	if e.trim {
		args = append(args, "-trim=false")
	}
	if _, err := runOnce(prog{args: append(args, "service:bench-gz", a), env: e.ddEnv(srv, ca), dest: a}); err != nil {
		return err
	}
	if _, err := runOnce(prog{args: []string{e.ddpgo, "-api-url", srv.URL(), "service:bench-gz", b}, env: e.ddEnv(srv, ca), dest: b}); err != nil {
		return err
	}
	ra, rb := filepath.Join(e.out, "check-a.pb"), filepath.Join(e.out, "check-b.pb")
	if err := gunzipFile(a, ra); err != nil {
		return err
	}
	if err := gunzipFile(b, rb); err != nil {
		return err
	}
	da, _ := os.ReadFile(ra)
	db, _ := os.ReadFile(rb)
	if !bytes.Equal(da, db) {
		return errors.New("pgofetch and the datadog-pgo equivalent wrote different profiles: the comparison would not be fair")
	}
	return nil
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	gcc := "unknown"
	if out, err := exec.Command("cc", "--version").Output(); err == nil {
		gcc = strings.SplitN(string(out), "\n", 2)[0]
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			load = fmt.Sprintf("; load average %s %s %s when the measurements began", f[0], f[1], f[2])
		}
	}
	return fmt.Sprintf("%d CPUs (nproc), %s; %s; %s%s", runtime.NumCPU(), cpu, runtime.Version(), gcc, load)
}
