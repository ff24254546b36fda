package ghaction

// What the action tells beyond fetching: check (pgofetch check, a job
// summary line and outputs) and compare (integrations/pgo-compare,
// benchstat's table in the job summary), under act on the example
// service's hot package; and their failures, running the step's script.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

const workPkg = "example.com/pgofetch-example/internal/work"

// benchProfile is a real CPU profile of the example's BenchmarkUnit: what
// a production profile of the service weighs, its hot path.
func benchProfile(t *testing.T) []byte {
	t.Helper()
	example := filepath.Join(t.TempDir(), "example")
	testenv.CopyTree(t, testenv.Example(t), example)
	prof := filepath.Join(t.TempDir(), "work.pprof")
	cmd := exec.Command("go", "test", "-run=^$", "-bench=Unit", "-benchtime=1s", "-cpuprofile="+prof, "./internal/work")
	cmd.Dir = example
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("profiling BenchmarkUnit: %v\n%s", err, out)
	}
	data, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// compareTools readies what the job's go run of pgo-compare needs offline
// (act's steps run with GOPROXY=off): its module's dependencies in the
// module cache, and the benchstat it pins where it looks first, the
// private HOME's cache directory.
func (w *world) compareTools(t *testing.T) {
	t.Helper()
	toolDir := filepath.Join(testenv.RepoRoot(t), "integrations", "pgo-compare")
	version := testenv.BenchstatVersion(t)
	benchstat := testenv.Benchstat(t)
	dir := filepath.Join(w.home, ".cache", "pgofetch", "benchstat@"+version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(benchstat)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "benchstat"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "mod", "download")
	cmd.Dir = toolDir
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Skip(t, "pgo-compare's dependencies cannot be downloaded: %v\n%s", err, out)
	}
}

func (w *world) compareScenario(t *testing.T) {
	w.compareTools(t)
	w.serve(fakedd.Profile{ID: "prof-work", Service: service, Data: benchProfile(t)})
	defer w.serve(defaultProfiles(t)...)

	j := w.run(jobOpts{workflow: "example-pgo-compare.yml"})
	j.requireGreen(t)
	out := j.outputs(t, "pgo")
	want(t, out, map[string]string{"outcome": "written", "path": destPath, "profile-ids": "prof-work"})
	if s := j.steps["pgo"]; s.Outcome != "success" {
		t.Errorf("the action's step: %+v", s)
	}
	// check: the outputs and the summary line say the same (whether the
	// benchmark's own frames made the profile's hot edges is chance;
	// TestCheckStep renames a hot package to be sure of a missing one).
	if m, err := strconv.ParseFloat(out["matched"], 64); err != nil || m < 0 || m > 1 {
		t.Errorf("output matched = %q, want a share from 0 to 1", out["matched"])
	}
	missing := "none missing"
	if out["top-missing"] != "" {
		missing = "the hottest missing: `" + regexp.QuoteMeta(out["top-missing"]) + "` \\([\\d.]+ %\\)"
	}
	checkLine := "### pgofetch check: `integrations/example/cmd/server`\n\n" +
		"matched: [\\d.]+ % of the profile's call-edge weight names functions in the build; " + missing + "\n"
	if !regexp.MustCompile(checkLine).MatchString(j.summary) {
		t.Errorf("the job summary lacks %s:\n%s", checkLine, j.summary)
	}

	// The payoff line, whatever it says: a figure or no significant
	// difference, for BenchmarkUnit over six rounds of each variant.
	payoff := `^PGO: ([-+][\d.]+% CPU per op|no significant difference in CPU per op) \(BenchmarkUnit(-\d+)? in ` +
		regexp.QuoteMeta(workPkg) + `; p=[\d.]+, n=6\)$`
	if !regexp.MustCompile(payoff).MatchString(out["payoff"]) {
		t.Errorf("output payoff = %q, want %s", out["payoff"], payoff)
	}

	// The summary: the heading, then pgo-compare's report fenced, holding
	// benchstat's table with both variants as columns, each with its six
	// CPU-time samples (n=6), and the payoff line.
	start := strings.Index(j.summary, "### pgofetch: what PGO buys `./internal/work`\n\n````\n")
	if start < 0 {
		t.Fatalf("the job summary has no comparison heading and fence:\n%s", j.summary)
	}
	rest := j.summary[start:]
	body, _, ok := strings.Cut(strings.SplitN(rest, "````\n", 2)[1], "\n````\n")
	if !ok {
		t.Fatalf("the comparison's fence is not closed:\n%s", rest)
	}
	t.Logf("the comparison in the job summary:\n%s", body)
	for _, re := range []string{
		`(?m)^pkg: ` + regexp.QuoteMeta(workPkg) + `$`,
		`(?m)│\s+pgo-off\s+│\s+pgo-on\s+│`,
		`(?m)│\s+cpu-sec/op\s+│\s+cpu-sec/op\s+vs base\s+│`,
		`(?m)^Unit(-\d+)?\s+\S+ ± \S+\s+\S+ ± \S+\s+(~|[-+][\d.]+%) \(p=[\d.]+ n=6\)`,
		`(?m)^coverage: the benchmarks ran \d+ % of the profile's hot call-edge weight`,
		`(?m)` + strings.TrimPrefix(payoff, "^"),
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("the fenced report lacks %s:\n%s", re, body)
		}
	}
	if strings.Contains(body, "build cost") {
		t.Errorf("the action measured the build cost:\n%s", body)
	}
}

// TestCompareCannot: a comparison that cannot be made is one warning
// annotation and a summary line that say why, and a green step; with
// fail: true an error and a failed step. The script runs as the action's
// step would, without act.
func TestCompareCannot(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module m\n\ngo 1.21\n"), 0o644)
	prof := filepath.Join(dir, "default.pgo")
	os.WriteFile(prof, []byte("not read before the flags are"), 0o644)
	goEnv := func(name string) string {
		out, _ := exec.Command("go", "env", name).Output()
		return name + "=" + strings.TrimSpace(string(out))
	}
	env := []string{"HOME=" + t.TempDir(), goEnv("GOCACHE"), goEnv("GOMODCACHE"), "GOPROXY=off", "GOTOOLCHAIN=local"}
	for _, tc := range []struct {
		name string
		env  []string
		code int
		want string
	}{
		{"off", []string{"INPUT_COMPARE= \n", "PGOFETCH_PATH=" + prof}, 0, ""},
		{"no profile", []string{"INPUT_COMPARE=./...", "INPUT_DEST=x/default.pgo", "PGOFETCH_PATH="}, 0,
			"::warning title=pgofetch::no PGO comparison: there is no profile at x/default.pgo"},
		{"no profile, fail: true", []string{"INPUT_COMPARE=./...", "INPUT_DEST=x/default.pgo", "PGOFETCH_PATH=", "INPUT_FAIL=true"}, 1,
			"::error title=pgofetch::no PGO comparison: there is no profile at x/default.pgo"},
		{"too few rounds", []string{"INPUT_COMPARE=./...", "INPUT_DEST=" + prof, "PGOFETCH_PATH=" + prof, "INPUT_COMPARE_COUNT=5"}, 0,
			"::warning title=pgofetch::no PGO comparison: pgo-compare exited with code 2: pgo-compare: -count 5: benchstat needs at least 6 rounds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, log, code := step(t, "compare.sh", append(env, tc.env...)...)
			if code != tc.code || !strings.Contains(log, tc.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, log)
			}
			if tc.want == "" && strings.Contains(log, "pgofetch") {
				t.Errorf("compare off did something:\n%s", log)
			}
			if tc.want != "" && !strings.Contains(log, "### pgofetch: what PGO buys `./...`") {
				t.Errorf("no summary:\n%s", log)
			}
			if out["payoff"] != "" {
				t.Errorf("payoff = %q without a comparison", out["payoff"])
			}
		})
	}
}

// TestCheckStep: check.sh as the action's step runs it, with the real
// pgofetch, on a real CPU profile of the example's benchmark and the
// example's server (as a package directory and as a built binary) after
// internal/work moved to internal/renamed: the profile's hot functions of
// that package no longer exist, so part of its weight is missing and the
// hottest missing function is one of them, absent from the binary.
func TestCheckStep(t *testing.T) {
	pgofetch := testenv.Pgofetch(t)
	prof := filepath.Join(t.TempDir(), "default.pgo")
	if err := os.WriteFile(prof, benchProfile(t), 0o644); err != nil {
		t.Fatal(err)
	}
	example := filepath.Join(t.TempDir(), "example")
	testenv.CopyTree(t, testenv.Example(t), example)
	if err := os.Rename(filepath.Join(example, "internal", "work"), filepath.Join(example, "internal", "renamed")); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"server", "batch"} {
		main := filepath.Join(example, "cmd", cmd, "main.go")
		src, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		src = bytes.ReplaceAll(src, []byte(`"`+workPkg+`"`), []byte(`work "example.com/pgofetch-example/internal/renamed"`))
		if err := os.WriteFile(main, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	server := filepath.Join(t.TempDir(), "server")
	build := exec.Command("go", "build", "-o", server, "./cmd/server")
	build.Dir = example
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	nm, err := exec.Command("go", "tool", "nm", server).Output()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + os.Getenv("HOME"), "PGOFETCH_BIN=" + pgofetch, "PGOFETCH_PATH=" + prof, "INPUT_DEST=" + prof}
	if gc := os.Getenv("GOCACHE"); gc != "" {
		env = append(env, "GOCACHE="+gc)
	}

	var matched string
	for _, target := range []string{filepath.Join(example, "cmd", "server"), server} {
		out, log, code := step(t, "check.sh", append(env, "INPUT_CHECK="+target)...)
		if code != 0 {
			t.Fatalf("check %s: exit %d\n%s", target, code, log)
		}
		m, err := strconv.ParseFloat(out["matched"], 64)
		if err != nil || m < 0 || m >= 1 {
			t.Errorf("check %s: matched = %q, want a share from 0 to under 1", target, out["matched"])
		}
		if matched != "" && out["matched"] != matched {
			t.Errorf("the binary matches %s, its package %s", out["matched"], matched)
		}
		matched = out["matched"]
		top := out["top-missing"]
		if !strings.HasPrefix(top, workPkg+".") || regexp.MustCompile(`(?m) T `+regexp.QuoteMeta(top)+`$`).Match(nm) {
			t.Errorf("top-missing = %q: want a function of %s, which the server no longer has", top, workPkg)
		}
		line := regexp.MustCompile("(?m)^matched: [\\d.]+ % of the profile's call-edge weight names functions in the build; " +
			"the hottest missing: `" + regexp.QuoteMeta(top) + "` \\([\\d.]+ %\\)$")
		if !strings.Contains(log, "### pgofetch check: `"+target+"`") || !line.MatchString(log) {
			t.Errorf("check %s: no summary line %s:\n%s", target, line, log)
		}
	}

	for _, tc := range []struct {
		name string
		env  []string
		code int
		want string
	}{
		{"below the threshold", []string{"INPUT_CHECK_FAIL_BELOW=100"}, 8,
			"::error title=pgofetch::only "},
		{"a bad threshold", []string{"INPUT_CHECK_FAIL_BELOW=lots"}, 2,
			"::error title=pgofetch::check-fail-below or check: invalid value \"lots\" for flag -fail-below"},
		{"no such package", []string{"INPUT_CHECK=" + filepath.Join(example, "nowhere")}, 0,
			"::warning title=pgofetch::no profile check: pgofetch check exited with code "},
		{"no such package, fail: true", []string{"INPUT_CHECK=" + filepath.Join(example, "nowhere"), "INPUT_FAIL=true"}, 1,
			"::error title=pgofetch::no profile check: pgofetch check exited with code "},
		{"no profile", []string{"PGOFETCH_PATH="}, 0, "::warning title=pgofetch::no profile check: there is no profile at "},
		{"no profile, with a threshold", []string{"PGOFETCH_PATH=", "INPUT_CHECK_FAIL_BELOW=50"}, 1,
			"::error title=pgofetch::no profile check: there is no profile at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := append(append([]string{}, env...), "INPUT_CHECK="+filepath.Join(example, "cmd", "server"))
			out, log, code := step(t, "check.sh", append(e, tc.env...)...)
			if code != tc.code || !strings.Contains(log, tc.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, log)
			}
			if tc.code == 8 && out["matched"] != matched {
				t.Errorf("below the threshold: matched = %q, want %s all the same", out["matched"], matched)
			}
		})
	}
}
