package cmakemodule

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// benchProfile is a real CPU profile of the example's hot package: its
// benchmark run under -cpuprofile, in a copy of the example (the test
// binary is left there).
func benchProfile(t *testing.T, example, dst string) {
	t.Helper()
	must(t, example, baseEnv(), "go", "test", "-run=^$", "-bench=Unit", "-benchtime=2s",
		"-cpuprofile="+dst, "./internal/work")
}

// TestCompare: <target>_pgo_compare on the example, with the module used
// from this checkout (the tool found beside it): it runs the benchmarks of
// the default ./... built without and with the profile, prints benchstat's
// table and the load, and keeps the two test binaries, which are go test
// -c's own with -pgo=off and with the absolute profile path. One generator:
// the target is one command, the same for both.
func TestCompare(t *testing.T) {
	testenv.Pgofetch(t)
	requireCMake(t)
	bs := testenv.Benchstat(t)
	gen := availableGenerators(t)[0]
	work, src, bld, pgofetch := example(t, `include(PGOFetch)
pgofetch_profile(batch_pgo OUTPUT pgo/default.pgo IN "${PGO_IN}")
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo)
`)
	in := filepath.Join(work, "work.pprof")
	benchProfile(t, src, in)
	env := baseEnv()
	// -build none: the build-cost lines are pgo-compare's own test's; here
	// the flag given is checked to reach the tool after the module's own.
	must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", gen.name,
		"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch,
		"-DPGO_IN="+in,
		"-DPGOFETCH_COMPARE_FLAGS=-count 6 -benchtime 0.05s -build none -benchstat "+bs)
	out := must(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo_compare")
	t.Logf("batch_pgo_compare:\n%s", out)

	pgo := filepath.Join(bld, "pgo", "default.pgo")
	kept := filepath.Join(bld, "pgofetch", "batch_pgo_compare")
	bins, _ := filepath.Glob(filepath.Join(kept, "*.test"))
	if len(bins) != 2 {
		t.Fatalf("test binaries kept in %s: %v, want internal/work's two\n%s", kept, bins, out)
	}
	own := t.TempDir()
	ownOff, ownPgo := filepath.Join(own, "off.test"), filepath.Join(own, "pgo.test")
	must(t, src, env, "go", "test", "-c", "-pgo=off", "-o", ownOff, "./internal/work")
	must(t, src, env, "go", "test", "-c", "-pgo="+pgo, "-o", ownPgo, "./internal/work")
	if !bytes.Equal(read(t, bins[0]), read(t, ownOff)) {
		t.Error("the -pgo=off variant is not go test -c -pgo=off's binary")
	}
	if !bytes.Equal(read(t, bins[1]), read(t, ownPgo)) {
		t.Errorf("the PGO variant is not go test -c -pgo=%s's binary", pgo)
	}
	if bytes.Equal(read(t, ownOff), read(t, ownPgo)) {
		t.Error("the two variants are the same binary")
	}
	for _, f := range []string{"pgo-off", "pgo-on"} {
		if n := strings.Count(string(read(t, filepath.Join(kept, f))), " cpu-sec/op\n"); n != 6 {
			t.Errorf("%s: %d cpu-sec/op samples, want 6 (-count 6)", f, n)
		}
	}
	for _, re := range []string{
		`(?m)│\s+pgo-off\s+│\s+pgo-on\s+│`,
		`(?m)│\s+cpu-sec/op\s+│\s+cpu-sec/op\s+vs base\s+│`,
		`(?m)^Unit(-\d+)?\s+\S+ ± \S+\s+\S+ ± \S+\s+(~|[-+][\d.]+%) \(p=[\d.]+ n=6\)`,
		`(?m)^go\S+ on \d+ CPUs, load average`,
		`(?m)^PGO: .*BenchmarkUnit(-\d+)? in example\.com/pgofetch-example/internal/work; p=[\d.]+, n=6\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the output lacks %s", re)
		}
	}
	if strings.Contains(out, "build cost:") {
		t.Errorf("-build none of PGOFETCH_COMPARE_FLAGS did not reach pgo-compare")
	}
	// The module's own settings, in the command the build tool runs.
	cmd := generated(t, gen, bld, "batch_pgo_compare")
	for _, want := range []string{"-dir " + src, "-build ./cmd/batch", "-count 6", "./..."} {
		if !strings.Contains(cmd, want) {
			t.Errorf("the compare command lacks %q", want)
		}
	}
}

// TestCompareNotFound: a copied module (no pgofetch checkout beside it)
// configures and builds as before; only its compare target fails, with one
// line saying to set PGOFETCH_SOURCE_DIR, and a wrong PGOFETCH_SOURCE_DIR
// is named. Before a profile exists, it says there is none.
func TestCompareNotFound(t *testing.T) {
	testenv.Pgofetch(t)
	eachGenerator(t, func(t *testing.T, g generator) {
		work, src, bld, pgofetch := example(t, `list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_SOURCE_DIR}/cmake")
include(PGOFetch)
pgofetch_profile(batch_pgo OUTPUT pgo/default.pgo IN "${PGO_IN}")
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo)
`)
		testenv.CopyTree(t, moduleDir(t), filepath.Join(src, "cmake"))
		env := baseEnv()
		in := filepath.Join(work, "in.pprof")
		out := must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DPGOFETCH_EXECUTABLE="+pgofetch, "-DPGO_IN="+in)
		if strings.Contains(out, "pgo-compare") || strings.Contains(out, "Warning") {
			t.Errorf("configuring spoke of the compare tool, which nobody asked for:\n%s", out)
		}
		must(t, work, env, "cmake", "--build", bld)

		// No profile yet (the -in source is missing), the tool found.
		must(t, work, env, "cmake", bld, "-DPGOFETCH_SOURCE_DIR="+testenv.RepoRoot(t))
		out, err := run(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo_compare")
		if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "pgofetch: batch_pgo_compare: no profile "+filepath.Join(bld, "pgo", "default.pgo")+" to compare with yet (make the IN sources readable)") {
			t.Errorf("without a profile: %v\n%s", err, out)
		}

		write(t, in, string(read(t, testenv.RealProfile(t))))
		for _, c := range []struct{ dir, want string }{
			{"", "pgofetch: batch_pgo_compare: the compare tool (integrations/pgo-compare of a pgofetch checkout) is not beside this module: re-run cmake with -DPGOFETCH_SOURCE_DIR=<a pgofetch checkout>"},
			{work, "pgofetch: batch_pgo_compare: PGOFETCH_SOURCE_DIR is " + work + ", which has no integrations/pgo-compare: set it to a pgofetch checkout and re-run cmake"},
		} {
			must(t, work, env, "cmake", bld, "-DPGOFETCH_SOURCE_DIR="+c.dir)
			out, err := run(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo_compare")
			if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), c.want) {
				t.Errorf("PGOFETCH_SOURCE_DIR=%q: want a failure saying %q: %v\n%s", c.dir, c.want, err, out)
			}
		}
	})
}

// example is a copy of the example without its batch profile, in a new
// work directory with a copy of the pgofetch under test, and the
// CMakeLists.txt lists after the common head (module, project, include).
func example(t *testing.T, lists string) (work, src, bld, pgofetch string) {
	t.Helper()
	work = t.TempDir()
	pgofetch = pgofetchCopy(t, work)
	src = filepath.Join(work, "src")
	bld = filepath.Join(work, "build")
	testenv.CopyTree(t, testenv.Example(t), src)
	os.Remove(filepath.Join(src, "cmd", "batch", "default.pgo"))
	write(t, filepath.Join(src, "CMakeLists.txt"),
		"cmake_minimum_required(VERSION 3.20)\nproject(example LANGUAGES NONE)\n"+lists)
	return work, src, bld, pgofetch
}

// generated is the command of a custom target as the generator wrote it.
func generated(t *testing.T, g generator, bld, target string) string {
	t.Helper()
	if g.tool == "ninja" {
		return string(read(t, filepath.Join(bld, "build.ninja")))
	}
	return string(read(t, filepath.Join(bld, "CMakeFiles", target+".dir", "build.make")))
}

// TestCheck: <target>_pgo_check runs pgofetch check on the profile (a real
// one of the example's benchmark) and the built binary: it passes while
// the code matches, names a hot function renamed after profiling as
// missing, and with CHECK_BELOW above what still matches it fails.
func TestCheck(t *testing.T) {
	testenv.Pgofetch(t)
	// In a copy: go test -cpuprofile leaves its test binary where it runs.
	scratch := t.TempDir()
	testenv.CopyTree(t, testenv.Example(t), filepath.Join(scratch, "example"))
	prof := filepath.Join(scratch, "work.pprof")
	benchProfile(t, filepath.Join(scratch, "example"), prof)
	matchedRe := regexp.MustCompile(`(?m)^matched: ([\d.]+)% of the call-edge weight names functions in (\S+)$`)
	const hot = "example.com/pgofetch-example/internal/work.parseRecord"
	eachGenerator(t, func(t *testing.T, g generator) {
		work, src, bld, pgofetch := example(t, `include(PGOFetch)
pgofetch_profile(batch_pgo OUTPUT pgo/default.pgo IN "${PGO_IN}")
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo CHECK_BELOW ${BELOW})
`)
		env := baseEnv()
		configure := func(below string) {
			must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
				"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch,
				"-DPGO_IN="+prof, "-DBELOW="+below)
		}
		matched := func(out string) float64 {
			t.Helper()
			m := matchedRe.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no matched: line:\n%s", out)
			}
			if m[2] != filepath.Join(bld, "bin", "batch") {
				t.Errorf("checked %s, not the built binary", m[2])
			}
			var f float64
			if _, err := fmt.Sscan(m[1], &f); err != nil {
				t.Fatal(err)
			}
			return f
		}

		// Before building, the target builds the binary it checks.
		configure("1")
		out := must(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo_check")
		before := matched(out)
		if strings.Contains(out, hot) {
			t.Fatalf("%s reported missing from the code it was profiled on:\n%s", hot, out)
		}

		// The hot function renamed after profiling.
		for _, f := range []string{"work.go", "work_test.go"} {
			p := filepath.Join(src, "internal", "work", f)
			write(t, p, strings.ReplaceAll(string(read(t, p)), "parseRecord(", "parseRecordRenamed("))
		}
		out = must(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo_check")
		after := matched(out)
		if !regexp.MustCompile(`(?m)^\s+[\d.]+%\s+`+regexp.QuoteMeta(hot)+`$`).MatchString(out) || after >= before {
			t.Fatalf("renamed: want %s among the missing and less matched than %.1f%%:\n%s", hot, before, out)
		}

		// A threshold between the two fails the check, naming it.
		configure(fmt.Sprintf("%.1f", (before+after)/2))
		out, err := run(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo_check")
		flat := strings.Join(strings.Fields(out), " ")
		if err == nil || !strings.Contains(flat, "below -fail-below") ||
			!strings.Contains(flat, "pgofetch: batch_pgo_check: pgofetch check failed (exit 8") {
			t.Errorf("CHECK_BELOW %.1f: want the check to fail with exit 8: %v\n%s", (before+after)/2, err, out)
		}
	})
}
