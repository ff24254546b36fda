package makeinclude

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// benchProfile profiles the example's hot package, internal/work, under
// its benchmark, in the work copy: a real CPU profile of the code that
// pgo-compare then measures. It returns the profile's path, beside the copy.
func benchProfile(w *work) string {
	w.t.Helper()
	p := filepath.Join(filepath.Dir(w.dir), "work.pprof")
	cmd := exec.Command("go", "test", "-run=^$", "-bench=Unit", "-benchtime=1s", "-cpuprofile="+p, "./internal/work")
	cmd.Dir = w.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("profiling internal/work: %v\n%s", err, out)
	}
	return p
}

// make pgo-compare on the example: the declared package's profile, given
// to pgo-compare by its absolute path, is compared on the benchmarks of
// PGO_BENCH; both variants ran every round; make prints benchstat's table,
// the load and the payoff line. No speed-up figure is asserted.
func TestCompare(t *testing.T) {
	bs := testenv.Benchstat(t)
	w := newWorkWith(t, "")
	w.writeMakefile(makefile("cmd/batch,,," + benchProfile(w)))
	out := filepath.Join(t.TempDir(), "out")
	// -build none after pgo.mk's -build: the build cost takes minutes and
	// is pgo-compare's own test's business.
	got := w.mustMake("pgo-compare", "PGO_BENCH=./internal/work",
		"PGO_BENCH_FLAGS=-count 6 -benchtime 0.05s -benchstat "+bs+" -o "+out+" -build none")

	prof := filepath.Join(w.dir, "cmd", "batch", "default.pgo")
	for _, re := range []string{
		// The profile is refreshed first, as a build would.
		`(?m)^'[^']*pgofetch'.* 'cmd/batch/default\.pgo'$`,
		`(?m)^pgo\.mk: comparing the benchmarks of \./internal/work without PGO and with cmd/batch/default\.pgo$`,
		`(?m)^\S+/integrations/pgo-compare: pgo-compare -dir '` + regexp.QuoteMeta(w.dir) + `' -profile '` +
			regexp.QuoteMeta(prof) + `' -build \./cmd/batch -count 6 .* \./internal/work$`,
		`(?m)^pkg: example\.com/pgofetch-example/internal/work$`,
		`(?m)│\s+pgo-off\s+│\s+pgo-on\s+│`,
		`(?m)│\s+cpu-sec/op\s+│\s+cpu-sec/op\s+vs base\s+│`,
		`(?m)^Unit(-\d+)?\s+\S+ ± \S+\s+\S+ ± \S+\s+(~|[-+][\d.]+%) \(p=[\d.]+ n=6\)`,
		`(?m)^go\S+ on \d+ CPUs, load average [\d.]+ at the start, [\d.]+ at the end$`,
		`(?m)^PGO: ([-+][\d.]+% CPU per op|no significant difference in CPU per op) \(BenchmarkUnit(-\d+)? in example\.com/pgofetch-example/internal/work; p=[\d.]+, n=6\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("make pgo-compare's output lacks %s", re)
		}
	}
	// Both variants ran, six rounds each: benchstat's inputs.
	for _, f := range []string{"pgo-off", "pgo-on"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), " cpu-sec/op\n"); n != 6 {
			t.Errorf("%s: %d cpu-sec/op samples, want 6", f, n)
		}
	}
	// One was built without the profile and one with it: go test -c's own
	// builds of each, and they differ in machine code.
	bins, _ := filepath.Glob(filepath.Join(out, "*.test"))
	if len(bins) != 2 {
		t.Fatalf("test binaries kept: %v, want internal/work's two", bins)
	}
	own := filepath.Join(t.TempDir(), "own-pgo.test")
	cmd := exec.Command("go", "test", "-c", "-pgo="+prof, "-o", own, "./internal/work")
	cmd.Dir = w.dir
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, o)
	}
	if !bytes.Equal(testenv.MachineCode(t, bins[1]), testenv.MachineCode(t, own)) {
		t.Errorf("%s is not go test -c -pgo=%s's build", bins[1], prof)
	}
	if bytes.Equal(testenv.MachineCode(t, bins[0]), testenv.MachineCode(t, bins[1])) {
		t.Errorf("the two variants hold the same machine code: off compared with off")
	}
}

// What keeps make pgo-compare from running says so in one line: several
// profiles and no PGO_COMPARE, an undeclared one, no tool, no profile yet,
// a flag the tool refuses. PGO_COMPARE picks the profile.
func TestCompareErrors(t *testing.T) {
	w := newWorkWith(t, "")
	in := inSource(w)
	w.writeMakefile(makefile("cmd/batch,,,"+in, "cmd/server,,,"+in))
	noTool := filepath.Join(t.TempDir(), "none")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "pgo.mk: error: pgo-compare: several packages are declared: say whose profile to compare with PGO_COMPARE=PKG (one of: cmd/batch cmd/server)"},
		{[]string{"PGO_COMPARE=cmd/nope"}, "pgo.mk: error: pgo-compare: PGO_COMPARE=cmd/nope is not a declared package (declared: cmd/batch cmd/server)"},
		{[]string{"PGO_COMPARE=cmd/batch", "PGO_COMPARE_TOOL=" + noTool},
			"pgo.mk: error: pgo-compare: no pgo-compare tool in " + noTool + ": set PGO_COMPARE_TOOL="},
		{[]string{"PGO_COMPAR=cmd/batch"}, "pgo.mk: error: unknown setting PGO_COMPAR"},
		// ./cmd/server/ is the same package as cmd/server.
		{[]string{"PGO_COMPARE=./cmd/server/", "PGO_BENCH_FLAGS=-count 5"},
			"pgo-compare: -count 5: benchstat needs at least 6 rounds"},
	} {
		out, ok := w.make(append([]string{"pgo-compare"}, c.args...)...)
		if ok || !strings.Contains(out, c.want) {
			t.Errorf("make pgo-compare %v: want a failure saying %q", c.args, c.want)
		}
		if strings.Contains(out, "round 1") {
			t.Errorf("make pgo-compare %v ran benchmarks", c.args)
		}
	}
	out, _ := w.make("pgo-compare", "PGO_COMPARE=./cmd/server/", "PGO_BENCH_FLAGS=-count 5")
	if !strings.Contains(out, "-profile '"+filepath.Join(w.dir, "cmd", "server", "default.pgo")+"' -build ./cmd/server ") {
		t.Errorf("PGO_COMPARE=./cmd/server/ did not compare cmd/server's profile")
	}
	if !strings.Contains(out, "pgo.mk: error: pgo-compare rejected PGO_BENCH_FLAGS or PGO_BENCH (its message is above)") {
		t.Errorf("a flag the tool refuses: no line naming the setting")
	}

	// No profile to compare: pgo says why, pgo-compare that there is none.
	w.writeMakefile(makefile("cmd/batch,,," + filepath.Join(t.TempDir(), "absent.pprof")))
	if err := os.Remove(filepath.Join(w.dir, "cmd", "batch", "default.pgo")); err != nil {
		t.Fatal(err)
	}
	out, ok := w.make("pgo-compare")
	if ok || !strings.Contains(out, "pgo.mk: error: pgo-compare: no cmd/batch/default.pgo to compare (make pgo says why above)") {
		t.Errorf("without a profile: want a failure saying there is none")
	}
}
