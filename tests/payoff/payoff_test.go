// Package payoff tests integrations/pgo-compare, the tool every integration
// calls to measure what PGO bought: on the example's hot package, with a
// real CPU profile of its benchmark, it must build the two variants (checked
// here against go test -c's own builds, byte for byte), run both, and print
// benchstat's table, the payoff line, the coverage and the build cost. No
// speed-up figure is asserted: that belongs to the measurement, not a test.
package payoff

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/internal/testenv"
)

const workPkg = "example.com/pgofetch-example/internal/work"

func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// setup copies the example, builds pgo-compare and benchstat, and profiles
// the hot package's benchmark: a real CPU profile of the code under test.
func setup(t *testing.T) (example, tool, benchstat, prof string) {
	toolDir := filepath.Join(testenv.RepoRoot(t), "integrations", "pgo-compare")
	benchstat = testenv.Benchstat(t)
	tmp := t.TempDir()
	example = filepath.Join(tmp, "example")
	testenv.CopyTree(t, testenv.Example(t), example)
	tool = filepath.Join(tmp, "pgo-compare")
	run(t, toolDir, "go", "build", "-o", tool, ".")
	prof = filepath.Join(tmp, "work.pprof")
	run(t, example, "go", "test", "-run=^$", "-bench=Unit", "-benchtime=1s", "-cpuprofile="+prof, "./internal/work")
	return example, tool, benchstat, prof
}

func TestCompareExample(t *testing.T) {
	example, tool, benchstat, prof := setup(t)
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(tool, "-dir", example, "-profile", prof, "-benchstat", benchstat,
		"-count", "6", "-benchtime", "0.05s", "-build", "./internal/work", "-o", out, "./...")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pgo-compare: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	report := stdout.String()
	t.Logf("pgo-compare's report:\n%s", report)

	// The binaries it compared are the ones go test -c builds with
	// -pgo=off and with the profile (builds are reproducible), and they
	// differ: the comparison is not off against off.
	// ./... has one package with tests: internal/work.
	bins, _ := filepath.Glob(filepath.Join(out, "*.test"))
	if len(bins) != 2 {
		t.Fatalf("test binaries kept: %v, want internal/work's two", bins)
	}
	offBin, pgoBin := bins[0], bins[1] // N-off.test, N-pgo.test
	ownOff, ownPgo := filepath.Join(out, "own-off.test"), filepath.Join(out, "own-pgo.test")
	run(t, example, "go", "test", "-c", "-pgo=off", "-o", ownOff, workPkg)
	run(t, example, "go", "test", "-c", "-pgo="+prof, "-o", ownPgo, workPkg)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(offBin), read(ownOff)) {
		t.Error("the -pgo=off variant is not go test -c -pgo=off's binary")
	}
	if !bytes.Equal(read(pgoBin), read(ownPgo)) {
		t.Error("the PGO variant is not go test -c -pgo=PROFILE's binary")
	}
	if bytes.Equal(testenv.MachineCode(t, offBin), testenv.MachineCode(t, pgoBin)) {
		t.Error("the two variants hold the same machine code")
	}

	// Both variants ran every round: benchstat's inputs hold six CPU-time
	// samples each. Only internal/work has benchmarks in ./...
	for _, f := range []string{"pgo-off", "pgo-on"} {
		data := string(read(filepath.Join(out, f)))
		if n := strings.Count(data, " cpu-sec/op\n"); n != 6 {
			t.Errorf("%s: %d cpu-sec/op samples, want 6:\n%s", f, n, data)
		}
		if strings.Contains(data, "cmd/") {
			t.Errorf("%s: packages without benchmarks were run:\n%s", f, data)
		}
	}

	// The report's shape: benchstat's table for wall and CPU time, both
	// variants as columns; then Go version and load, profile, coverage,
	// payoff, build cost.
	for _, re := range []string{
		`(?m)^pkg: ` + regexp.QuoteMeta(workPkg) + `$`,
		`(?m)│\s+pgo-off\s+│\s+pgo-on\s+│`,
		`(?m)│\s+sec/op\s+│\s+sec/op\s+vs base\s+│`,
		`(?m)│\s+cpu-sec/op\s+│\s+cpu-sec/op\s+vs base\s+│`,
		`(?m)^Unit(-\d+)?\s+\S+ ± \S+\s+\S+ ± \S+\s+(~|[-+][\d.]+%) \(p=[\d.]+ n=6\)`,
		`(?m)^go\S+ on \d+ CPUs`,
		`(?m)^profile: \d+ samples, `,
		`(?m)^coverage: the benchmarks ran \d+ % of the profile's hot call-edge weight \(\d+ hot edges\)$`,
		`(?m)^PGO: ([-+][\d.]+% CPU per op|no significant difference in CPU per op) \(BenchmarkUnit(-\d+)? in ` + regexp.QuoteMeta(workPkg) + `; p=[\d.]+, n=6\)$`,
		`(?m)^build cost: go build -a ./internal/work: [\d.]+ s \([\d.]+ s CPU\) without the profile, [\d.]+ s \([\d.]+ s CPU\) with it`,
		`(?m)^build cost: after a new profile [\d.]+ s \([\d.]+ s CPU\), .*; an unchanged rebuild [\d.]+ s`,
	} {
		if !regexp.MustCompile(re).MatchString(report) {
			t.Errorf("the report lacks %s", re)
		}
	}
	// The profile is the benchmark's own: the benchmark runs what it
	// weighs, nearly all of it (a call seen once at the profile's edge of
	// sampling may be missed).
	if m := regexp.MustCompile(`ran (\d+) %`).FindStringSubmatch(report); m != nil {
		if n, _ := strconv.Atoi(m[1]); n < 50 {
			t.Errorf("coverage of the benchmark's own profile is %d %%, want most of it", n)
		}
	}
	lines := strings.Split(strings.TrimSpace(report), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "build cost: after a new profile") {
		t.Errorf("the report ends with %q, not the build cost", last)
	}

	// Binaries another build system made (Bazel's go_test with and
	// without pgoprofile) are run as given: here go test -c's own.
	given := exec.Command(tool, "-dir", filepath.Join(example, "internal", "work"), "-profile", prof,
		"-benchstat", benchstat, "-count", "6", "-benchtime", "0.05s", "-coverage=false",
		"-binaries", ownOff+","+ownPgo)
	stdout.Reset()
	stderr.Reset()
	given.Stdout, given.Stderr = &stdout, &stderr
	if err := given.Run(); err != nil {
		t.Fatalf("pgo-compare -binaries: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if re := `(?m)^PGO: .* \(BenchmarkUnit(-\d+)? in work; p=[\d.]+, n=6\)$`; !regexp.MustCompile(re).MatchString(stdout.String()) {
		t.Errorf("pgo-compare -binaries: no payoff line %s:\n%s", re, stdout.String())
	}
	if strings.Contains(stdout.String(), "build cost") || strings.Contains(stderr.String(), "building the test binary") {
		t.Errorf("pgo-compare -binaries built something:\n%s%s", stdout.String(), stderr.String())
	}
}

// TestCompareUnchangedCode: a profile without samples changes no machine
// code (the test binaries still differ, in their build IDs): the tool must
// say there is nothing to compare and fail, not compare off with off.
func TestCompareUnchangedCode(t *testing.T) {
	example, tool, benchstat, prof := setup(t)
	f, err := os.Open(prof)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p.Sample = nil
	empty := filepath.Join(t.TempDir(), "empty.pprof")
	w, err := os.Create(empty)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cmd := exec.Command(tool, "-dir", example, "-profile", empty, "-benchstat", benchstat, "-build", "none", "./internal/work")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1\n%s", err, out)
	}
	for _, want := range []string{
		"internal/work: the profile changed no machine code in its test binary",
		"pgo-compare: nothing to compare",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "round 1") {
		t.Errorf("it ran benchmarks anyway:\n%s", out)
	}
}

// TestCompareRejects: settings that cannot give an answer are refused with
// one line and exit status 2, before anything is built.
func TestCompareRejects(t *testing.T) {
	toolDir := filepath.Join(testenv.RepoRoot(t), "integrations", "pgo-compare")
	tool := filepath.Join(t.TempDir(), "pgo-compare")
	run(t, toolDir, "go", "build", "-o", tool, ".")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"./..."}, "-profile is required"},
		{[]string{"-profile", "/nonexistent.pgo"}, "-profile: "},
		{[]string{"-profile", tool, "-count", "5"}, "-count 5: benchstat needs at least 6 rounds"},
		{[]string{"-profile", tool, "-benchtime", "fast"}, `-benchtime "fast"`},
		{[]string{"-profile", tool, "-binaries", tool}, "-binaries wants OFF,PGO"},
		{[]string{"-profile", tool, "-binaries", tool + ",/nonexistent.test"}, "-binaries: "},
	} {
		cmd := exec.Command(tool, tc.args...)
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: exit %v, want status 2\n%s", tc.args, err, out)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: output %q lacks %q", tc.args, out, tc.want)
		}
	}
}
