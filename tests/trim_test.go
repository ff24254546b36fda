package tests

// The proof that -trim keeps the compiler's whole PGO input, and that
// -format preprofile writes exactly what `go tool preprofile` writes:
//
//   - for every generated set (gen.Cases) and every real profile set,
//     `go tool preprofile` of the trimmed DEST equals, line for line, that
//     of the untrimmed DEST (-trim=false); where Go refuses the untrimmed
//     profile, pgofetch refuses to trim it (and to preprocess it), with
//     Go's reason;
//   - pgofetch -format preprofile equals `go tool preprofile` of the
//     untrimmed DEST byte for byte;
//   - the example service built with the trimmed and with the untrimmed
//     profile, each in a fresh build cache, gives identical binaries whose
//     code differs from a build without PGO.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/gen"
	"pgofetch/tests/internal/testenv"
)

var (
	preprofileOnce sync.Once
	preprofileBin  string
	preprofileErr  error
)

// goPreprofile is the Go toolchain's own preprofile tool, the one go build
// runs.
func goPreprofile(t testing.TB) string {
	t.Helper()
	preprofileOnce.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "preprofile").Output()
		if err != nil {
			preprofileErr = fmt.Errorf("go tool -n preprofile: %v", err)
			return
		}
		preprofileBin = strings.TrimSpace(string(out))
	})
	if preprofileErr != nil {
		t.Fatal(preprofileErr)
	}
	return preprofileBin
}

// preprocess runs `go tool preprofile -i file`; refusal is its error text
// when Go refuses the profile.
func preprocess(t testing.TB, file string) (out []byte, refusal string) {
	t.Helper()
	cmd := exec.Command(goPreprofile(t), "-i", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			t.Fatalf("go tool preprofile -i %s: %v", file, err)
		}
		return nil, msg
	}
	return stdout.Bytes(), ""
}

// trimCase is one profile set checked three ways.
type trimCase struct {
	ins      []string
	noinline bool
	what     string
}

// trimRun is what checkTrim found, for checks of its own.
type trimRun struct {
	full, trimmed, pre string // DEST paths
	want               []byte
}

func (c trimCase) args(extra ...string) []string {
	args := append([]string{"-fail"}, extra...)
	if !c.noinline {
		args = append(args, "-noinline=false")
	}
	for _, in := range c.ins {
		args = append(args, "-in", in)
	}
	return args
}

// checkTrim writes the set untrimmed, trimmed and as a preprofile, and
// compares them through `go tool preprofile`.
func checkTrim(t *testing.T, c trimCase) trimRun {
	t.Helper()
	dir := t.TempDir()
	run := trimRun{full: filepath.Join(dir, "full.pgo"), trimmed: filepath.Join(dir, "default.pgo"),
		pre: filepath.Join(dir, "default.preprofile")}
	if r := pgofetch(t, append(c.args("-trim=false"), run.full)...); r.code != 0 {
		t.Fatalf("%s: pgofetch -trim=false failed\n%s", c.what, r)
	}
	rt := pgofetch(t, append(c.args(), run.trimmed)...)
	rp := pgofetch(t, append(c.args("-format", "preprofile"), run.pre)...)
	want, refusal := preprocess(t, run.full)
	if refusal != "" {
		checkRefused(t, c.what, refusal, rt, rp, run)
		return run
	}
	run.want = want
	if rt.code != 0 {
		t.Fatalf("%s: pgofetch (trimming) failed, though go tool preprofile takes the full profile\n%s", c.what, rt)
	}
	if rp.code != 0 {
		t.Fatalf("%s: pgofetch -format preprofile failed\n%s", c.what, rp)
	}
	got, refusal := preprocess(t, run.trimmed)
	if refusal != "" {
		t.Fatalf("%s: go tool preprofile refuses the trimmed profile: %s", c.what, refusal)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: go tool preprofile of the trimmed profile differs from that of the full one\n%s",
			c.what, firstLineDiff(string(got), string(want)))
	}
	if pre := readFile(t, run.pre); !bytes.Equal(pre, want) {
		t.Errorf("%s: -format preprofile differs from go tool preprofile\n%s", c.what,
			firstLineDiff(string(pre), string(want)))
	}
	checkTrimmedShape(t, c.what, readFile(t, run.trimmed))
	return run
}

// Where Go refuses the full profile, pgofetch refuses to trim or
// preprocess it (exit 4 with -fail), giving Go's reason, and writes nothing.
func checkRefused(t *testing.T, what, refusal string, rt, rp result, run trimRun) {
	t.Helper()
	reason := refusal[strings.LastIndex(refusal, ": ")+2:]
	if i := strings.Index(refusal, "profile missing Function.start_line"); i >= 0 {
		reason = refusal[i:]
	}
	for _, r := range []result{rt, rp} {
		if r.code != 4 || !strings.Contains(r.stderr, reason) {
			t.Errorf("%s: go tool preprofile refuses the full profile (%s); want pgofetch to fail with exit 4 and that reason\n%s",
				what, refusal, r)
		}
	}
	for _, p := range []string{run.trimmed, run.pre} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: %s written although the profile was refused", what, p)
		}
	}
}

// A trimmed profile is a valid pprof profile that holds only what the
// compiler reads.
func checkTrimmedShape(t *testing.T, what string, data []byte) {
	t.Helper()
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("%s: the trimmed profile does not parse: %v", what, err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("%s: the trimmed profile is not valid: %v", what, err)
	}
	if len(p.Sample) > 0 && len(p.SampleType) != 1 {
		t.Errorf("%s: trimmed profile has %d sample types, want 1", what, len(p.SampleType))
	}
	if len(p.Mapping) != 0 {
		t.Errorf("%s: trimmed profile has %d mappings, want none", what, len(p.Mapping))
	}
	for _, s := range p.Sample {
		if len(s.Location) > 2 || len(s.Label) > 0 || len(s.NumLabel) > 0 {
			t.Fatalf("%s: trimmed sample with %d locations, labels %v %v", what, len(s.Location), s.Label, s.NumLabel)
		}
	}
	for _, f := range p.Function {
		if f.SystemName != "" || f.Filename != "" {
			t.Fatalf("%s: trimmed function keeps system name %q, file %q", what, f.SystemName, f.Filename)
		}
	}
}

// firstLineDiff shows the first line where two texts differ.
func firstLineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d (of %d and %d): got %q, want %q", i+1, len(g), len(w), gl, wl)
		}
	}
	return "equal"
}

// Every generated set of the test plan (gen.Cases: ordinary, negative
// values, exotic encodings, weird names, sparse ids, big, many profiles).
func TestTrimGenerated(t *testing.T) {
	requireBinary(t)
	refused := 0
	var mu sync.Mutex
	t.Run("sets", func(t *testing.T) {
		for _, c := range gen.Cases() {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				s := gen.NewSet(c.Seed, c.Options)
				ins, _ := writeSet(t, t.TempDir(), s)
				noinline := c.Seed%4 != 0
				run := checkTrim(t, trimCase{ins: ins, noinline: noinline,
					what: fmt.Sprintf("gen.NewSet(%d, %+v) noinline=%v", c.Seed, c.Options, noinline)})
				if run.want == nil {
					mu.Lock()
					refused++
					mu.Unlock()
				}
			})
		}
	})
	// The plan must mostly check real equality, not agreement on refusals.
	if n := len(gen.Cases()); refused > n/4 {
		t.Errorf("Go refuses %d of %d generated sets: too few are compared", refused, n)
	}
	t.Logf("%d generated sets, %d refused by Go (and by pgofetch)", len(gen.Cases()), refused)
}

// The real profiles: runtime/pprof's, alone and merged, and the production
// profile, with and without the no-inline rename.
func TestTrimReal(t *testing.T) {
	requireBinary(t)
	ps := realProfiles(t)
	r1, r2, r3, grpc := ps[0], ps[1], ps[2], ps[3]
	cases := map[string][]string{
		"real1": {r1}, "real2": {r2}, "grpc": {grpc}, "real1+real2": {r1, r2},
		"real1+real2+r3": {r1, r2, r3}, "grpc twice": {grpc, grpc}, "all": {r1, r2, r3, grpc},
	}
	for name, files := range cases {
		for _, noinline := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/noinline=%v", name, noinline), func(t *testing.T) {
				t.Parallel()
				run := checkTrim(t, trimCase{ins: files, noinline: noinline, what: name})
				if run.want == nil {
					t.Fatalf("%s: Go refuses a real profile", name)
				}
				if bytes.Count(run.want, []byte("\n")) < 10 {
					t.Errorf("%s: only %d preprofile lines: the comparison proves little", name, bytes.Count(run.want, []byte("\n")))
				}
				full, trimmed := len(readFile(t, run.full)), len(readFile(t, run.trimmed))
				if trimmed >= full {
					t.Errorf("%s: trimmed profile %d bytes, full %d", name, trimmed, full)
				}
			})
		}
	}
}

// The no-inline rename works on trimmed output: the production profile's
// processData is renamed, in the trimmed profile and hence in what the
// compiler reads.
func TestTrimNoInline(t *testing.T) {
	requireBinary(t)
	run := checkTrim(t, trimCase{ins: []string{realProfiles(t)[3]}, noinline: true, what: "grpc"})
	p, err := profile.ParseData(readFile(t, run.trimmed))
	if err != nil {
		t.Fatal(err)
	}
	renamed := 0
	for _, f := range p.Function {
		if f.Name == gen.GrpcProcessData {
			t.Errorf("trimmed profile still has %s", f.Name)
		}
		if f.Name == "DO NOT INLINE: "+gen.GrpcProcessData {
			renamed++
		}
	}
	if renamed != 1 {
		t.Errorf("trimmed profile has %d renamed processData functions, want 1", renamed)
	}
	if !bytes.Contains(run.want, []byte("\nDO NOT INLINE: "+gen.GrpcProcessData+"\n")) {
		t.Errorf("the compiler does not see the renamed callee")
	}
}

// Hand-made profiles for the corners of the compiler's rule: a recursion
// whose two frames differ only in address (two nodes, hence an edge), the
// same with cancelling values, a profile without start lines, one without
// a sample type the compiler reads, an empty one, and one whose samples are
// all 0 in the compiler's sample type.
func TestTrimCorners(t *testing.T) {
	requireBinary(t)
	fn := func(id uint64, name string, start int64) gen.Function {
		return gen.Function{ID: id, Name: name, SystemName: name, Filename: "f.go", StartLine: start}
	}
	loc := func(id, addr, fn uint64, line int64) gen.Location {
		return gen.Location{ID: id, MappingID: 1, Address: addr, Line: []gen.Line{{FunctionID: fn, Line: line}}}
	}
	recursion := func(values ...int64) *gen.Profile {
		p := gen.Minimal()
		p.Function = []gen.Function{fn(1, "main.fib", 10), fn(2, "main.main", 30), fn(3, "main.leaf", 50)}
		p.Location = []gen.Location{loc(1, 0x401010, 1, 12), loc(2, 0x401020, 1, 12), loc(3, 0x402000, 2, 33),
			loc(4, 0x403000, 3, 51)}
		stacks := [][]uint64{{1, 2, 3}, {2, 3}, {4, 1, 2}, {1, 2, 2, 3}, {4, 2}}
		p.Sample = nil
		for i, v := range values {
			p.Sample = append(p.Sample, gen.Sample{LocationID: stacks[i%len(stacks)], Value: []int64{v, v * 10}})
		}
		return p
	}
	noStart := gen.Minimal()
	for i := range noStart.Function {
		noStart.Function[i].StartLine = 0
	}
	zeroCount := gen.Minimal()
	for i := range zeroCount.Sample {
		zeroCount.Sample[i].Value[0] = 0
	}
	empty := gen.Minimal()
	empty.Sample = nil
	cases := map[string]*gen.Profile{
		"recursion":           recursion(3, 1, 2, 5, 7),
		"recursion, negative": recursion(3, -1, 2, -3, 7, 4, -2, 1, -5, -7),
		"no start lines":      noStart,
		"wall time only":      gen.WithSampleTypes(gen.ValueType{Type: "wall", Unit: "nanoseconds"}),
		"empty":               empty,
		"zero counts":         zeroCount,
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := writeFile(t, filepath.Join(t.TempDir(), "in.pprof"), gen.Plain(p))
			run := checkTrim(t, trimCase{ins: []string{in}, noinline: true, what: name})
			if name == "recursion" && !bytes.Contains(run.want, []byte("main.fib\nmain.fib\n")) {
				t.Errorf("the recursion's fib -> fib edge is missing:\n%s", run.want)
			}
		})
	}
}

// -format preprofile refuses to write a default.pgo (go build would refuse
// to read it), as a usage error.
func TestPreprofileNotDefaultPgo(t *testing.T) {
	requireBinary(t)
	in := writeFile(t, filepath.Join(t.TempDir(), "in.pprof"), gen.Plain(gen.Minimal()))
	for _, dest := range []string{"default.pgo", filepath.Join(t.TempDir(), "cmd", "x", "default.pgo")} {
		r := pgofetch(t, "-format", "preprofile", "-in", in, dest)
		if r.code != 2 || !strings.Contains(r.stderr, "default.pgo") {
			t.Errorf("want a usage error (exit 2) naming default.pgo\n%s", r)
		}
		if _, err := os.Stat(dest); err == nil {
			t.Errorf("%s written", dest)
		}
	}
}

// -v says how big the profile was before trimming and after.
func TestTrimVerbose(t *testing.T) {
	requireBinary(t)
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := pgofetch(t, "-v", "-fail", "-in", realProfiles(t)[3], dest)
	if r.code != 0 {
		t.Fatalf("pgofetch failed\n%s", r)
	}
	var line string
	for _, l := range r.lines() {
		if strings.Contains(l, "trimmed") {
			line = l
		}
	}
	st, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "bytes-before=") || !strings.Contains(line, fmt.Sprintf("bytes-after=%d ", st.Size())) {
		t.Errorf("no -v line with bytes-before and bytes-after=%d\n%s", st.Size(), r)
	}
}

// goBuild builds the example's cmd/server reproducibly into out; cache is
// its GOCACHE ("" for the default one).
func goBuild(t *testing.T, dir, out, cache string, extra ...string) {
	t.Helper()
	args := append([]string{"build", "-trimpath", "-ldflags=-buildid=", "-o", out}, extra...)
	cmd := exec.Command("go", append(args, "./cmd/server")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if cache != "" {
		cmd.Env = append(cmd.Env, "GOCACHE="+cache)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// The example service built with the trimmed and with the untrimmed
// profile of itself gives the same binary, and its code differs from the
// build without PGO. go build keys its cache on the preprocessed profile,
// so with one cache the second build would reuse the first's objects: each
// PGO build gets a fresh cache, and compiles everything itself.
func TestTrimBuildsSameBinary(t *testing.T) {
	requireBinary(t)
	if testing.Short() {
		t.Skip("builds the example three times")
	}
	work := t.TempDir()
	src := filepath.Join(work, "example")
	testenv.CopyTree(t, testenv.Example(t), src)
	os.Remove(filepath.Join(src, "cmd", "server", "default.pgo"))
	plain := filepath.Join(work, "server-nopgo")
	goBuild(t, src, plain, "", "-pgo=off")

	full, trimmed := profileExample(t, plain, work)
	want, _ := preprocess(t, full)
	if !bytes.Contains(want, []byte("example.com/pgofetch-example/internal/work.")) {
		t.Fatalf("the profile has no edge in the example's code:\n%s", want)
	}
	bins := map[string]string{}
	for name, prof := range map[string]string{"full": full, "trimmed": trimmed} {
		data := readFile(t, prof)
		writeFile(t, filepath.Join(src, "cmd", "server", "default.pgo"), data)
		bins[name] = filepath.Join(work, "server-"+name)
		goBuild(t, src, bins[name], filepath.Join(work, "cache-"+name))
	}
	if !bytes.Equal(readFile(t, bins["full"]), readFile(t, bins["trimmed"])) {
		t.Errorf("the binaries built with the full and the trimmed profile differ")
	}
	if bytes.Equal(testenv.MachineCode(t, bins["full"]), testenv.MachineCode(t, plain)) {
		t.Errorf("the PGO build's code is the same as the plain build's: the profile changed nothing")
	}
}

// profileExample runs the plain server, profiles it for 3 s through its
// pprof endpoint with pgofetch (untrimmed), and trims that profile.
func profileExample(t *testing.T, server, dir string) (full, trimmed string) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(server, "-addr", "127.0.0.1:"+port, "-workers", "2", "-duration", "60s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	full, trimmed = filepath.Join(dir, "full.pgo"), filepath.Join(dir, "trimmed.pgo")
	url := "http://127.0.0.1:" + port + "/debug/pprof/profile?seconds=3"
	var r result
	for i := 0; i < 50; i++ { // until the server listens
		if r = pgofetch(t, "-fail", "-trim=false", "-in", url, full); r.code != 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 {
		t.Fatalf("profiling the example failed\n%s", r)
	}
	if r := pgofetch(t, "-fail", "-in", full, trimmed); r.code != 0 {
		t.Fatalf("trimming failed\n%s", r)
	}
	return full, trimmed
}

// freePort is a TCP port on the loopback interface that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
