package bazelrule

// pgofetch_compare and @NAME//:check on the Bazel here (4.2.3): genrules
// running `go test -c -pgo=off` and `-pgo=$(location @work_pgo//:default.pgo)`
// on the example's internal/work stand in for rules_go's go_test without
// and with the profile (no rules_go with pgoprofile runs on Bazel 4), and
// bazel/README.md's pgofetch_compare runs pgo-compare on them; then :check
// of the profile's repository reports a hot function renamed after
// profiling as missing; and noinline_funcs and noinline_file rename the
// functions they name in the profile. No speed-up is asserted: that is the measurement's.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/internal/testenv"
)

const (
	workPkg    = "example.com/pgofetch-example/internal/work"
	hotFunc    = workPkg + ".parseRecord" // hot in BenchmarkUnit
	renamedHot = "parseRecordRenamed"
)

func TestBazelCompareCheckNoinline(t *testing.T) {
	bazelBin, err := exec.LookPath("bazel")
	if err != nil {
		t.Fatal("bazel is not on PATH: install Debian's bazel-bootstrap (make test does), or any Bazel ≥ 4")
	}
	pgofetch := testenv.Pgofetch(t)
	repo := testenv.RepoRoot(t)
	benchstat := testenv.Benchstat(t)

	tmp := bazelTempDir(t)

	// The workspace, as TestBazelRepositoryRule's (its fake-API
	// repositories are never fetched here), with README's pgofetch_compare.
	ws := filepath.Join(tmp, "ws")
	testenv.CopyTree(t, filepath.Join("testdata", "workspace"), ws)
	example := filepath.Join(ws, "example")
	testenv.CopyTree(t, testenv.Example(t), example)
	copyFile(t, pgofetch, filepath.Join(ws, "tools", "pgofetch"), 0o755)
	substitute(t, filepath.Join(ws, "WORKSPACE"), map[string]string{
		"# @@README_WORKSPACE@@": readmeWorkspace(t, repo, tmp),
		"@@PPROF_URL@@":          "http://127.0.0.1:9/unused",
	})
	substitute(t, filepath.Join(ws, "BUILD.bazel"), map[string]string{"# @@README_COMPARE@@": readmeCompare(t)})

	// A real CPU profile of the benchmark: @work_pgo's only source.
	goIn(t, example, "test", "-run=^$", "-bench=Unit", "-benchtime=1s",
		"-cpuprofile="+filepath.Join(ws, "profiles", "work.pprof"), "./internal/work")
	os.Remove(filepath.Join(example, "work.test")) // -cpuprofile keeps it

	goCache := goEnv(t, "GOCACHE")
	home := filepath.Join(tmp, "home")
	os.MkdirAll(home, 0o755)
	writeFile(t, filepath.Join(ws, ".bazelrc"), strings.Join([]string{
		"build --color=no --curses=no --show_progress_rate_limit=60",
		"build --nosandbox_debug",
		"build --action_env=PATH",
		"build --action_env=HOME=" + home,
		"build --action_env=GOCACHE=" + goCache,
		"build --action_env=GOPATH=" + filepath.Join(tmp, "gopath"),
		"build --sandbox_writable_path=" + goCache,
		"",
	}, "\n"))
	b := &bazelEnv{
		t:       t,
		bin:     bazelBin,
		ws:      ws,
		userDir: filepath.Join(tmp, "bazel"),
		// bazel run hands the client's environment to what it runs: the
		// go commands of pgo-compare share the test's caches and proxy.
		env: map[string]string{
			"PATH":        os.Getenv("PATH"),
			"HOME":        home,
			"TMPDIR":      os.TempDir(),
			"GOCACHE":     goCache,
			"GOMODCACHE":  goEnv(t, "GOMODCACHE"),
			"GOPROXY":     goEnv(t, "GOPROXY"),
			"GOTOOLCHAIN": "local",
		},
	}
	b.startup = []string{"--nohome_rc", "--output_user_root=" + b.userDir, "--max_idle_secs=300"}
	t.Cleanup(func() { b.run("shutdown") })

	offBin, pgoBin := filepath.Join(ws, "bazel-bin", "work_test.bin"), filepath.Join(ws, "bazel-bin", "work_pgo_test.bin")

	t.Run("compare runs both variants", func(st *testing.T) {
		b.t = st
		defer func() { b.t = t }()
		out := filepath.Join(tmp, "compare-out")
		stdout := b.mustRun("run", "//:work_pgo_compare", "--",
			"-benchstat", benchstat, "-count", "6", "-benchtime", "0.05s", "-o", out)
		st.Logf("bazel run //:work_pgo_compare:\n%s", stdout)

		// The two stand-ins are the test binary without and with the
		// profile: their machine code differs.
		if bytes.Equal(testenv.MachineCode(st, offBin), testenv.MachineCode(st, pgoBin)) {
			st.Error("work_test and work_pgo_test hold the same machine code: the profile was not used")
		}
		// Both variants ran every round.
		for _, f := range []string{"pgo-off", "pgo-on"} {
			data := string(readFile(st, filepath.Join(out, f)))
			if n := strings.Count(data, " cpu-sec/op\n"); n != 6 {
				st.Errorf("%s: %d cpu-sec/op samples, want 6:\n%s", f, n, data)
			}
		}
		for _, re := range []string{
			`(?m)│\s+pgo-off\s+│\s+pgo-on\s+│`,
			`(?m)│\s+cpu-sec/op\s+│\s+cpu-sec/op\s+vs base\s+│`,
			`(?m)^Unit(-\d+)?\s+\S+ ± \S+\s+\S+ ± \S+\s+(~|[-+][\d.]+%) \(p=[\d.]+ n=6\)`,
			`(?m)^profile: \d+ samples, `,
			`(?m)^coverage: the benchmarks ran \d+ % of the profile's hot call-edge weight`,
			`(?m)^PGO: ([-+][\d.]+% CPU per op|no significant difference in CPU per op) \(BenchmarkUnit(-\d+)? in work; p=[\d.]+, n=6\)$`,
		} {
			if !regexp.MustCompile(re).MatchString(stdout) {
				st.Errorf("the report lacks %s", re)
			}
		}
		if strings.Contains(stdout, "build cost") {
			st.Error("pgo-compare built something: Bazel built the binaries")
		}
	})

	t.Run("check reports a renamed hot function", func(st *testing.T) {
		b.t = st
		defer func() { b.t = t }()
		rep := bazelCheck(st, b, "bazel-bin/work_test.bin")
		if rep.Matched < 0.99 || len(rep.Missing) != 0 {
			st.Errorf("the profile against the code it was taken from: matched %.3f, missing %v; want all", rep.Matched, rep.Missing)
		}
		src := filepath.Join(example, "internal", "work", "work.go")
		text := string(readFile(st, src))
		if !strings.Contains(text, "parseRecord(") {
			st.Fatalf("%s has no parseRecord(", src)
		}
		for _, f := range []string{src, filepath.Join(example, "internal", "work", "work_test.go")} {
			writeFile(st, f, strings.ReplaceAll(string(readFile(st, f)), "parseRecord(", renamedHot+"("))
		}
		b.mustRun("build", "//:work_test")
		rep = bazelCheck(st, b, "bazel-bin/work_test.bin")
		found := false
		for _, m := range rep.Missing {
			found = found || (m.Function == hotFunc && m.Share > 0)
		}
		if !found || rep.Matched > 0.99 {
			st.Errorf("after renaming %s: matched %.3f, missing %v; want it missing", hotFunc, rep.Matched, rep.Missing)
		}
	})

	t.Run("noinline_funcs and noinline_file rename their functions", func(st *testing.T) {
		b.t = st
		defer func() { b.t = t }()
		list := filepath.Join(ws, "profiles", "noinline.txt")
		prof := b.repoFile(b.outputBase(), "noinline_pgo", "default.pgo")
		// Only a sample's leaf function is renamed, and which of the
		// package's functions are leaves depends on the profile taken:
		// the two the list names in turn are read from an unrenamed fetch.
		writeFile(st, list, "# nothing yet\n")
		b.mustRun("build", "@noinline_pgo//:default.pgo")
		leaves := leafFunctions(parseProfile(st, prof), workPkg+".", hotFunc)
		if len(leaves) < 2 {
			st.Fatalf("the profile has %d leaf functions of %s besides %s; two are needed to see the list change", len(leaves), workPkg, hotFunc)
		}
		one, two := strings.TrimPrefix(leaves[0], workPkg+"."), strings.TrimPrefix(leaves[1], workPkg+".")
		for _, tc := range []struct{ file, renamed, kept string }{
			{one, one, two},
			// A changed file is fetched again: Bazel tracks label inputs.
			{two, two, one},
		} {
			writeFile(st, list, "# hot, but not to be inlined\n"+regexp.QuoteMeta(workPkg+"."+tc.file)+"\n")
			b.mustRun("build", "@noinline_pgo//:default.pgo")
			p := parseProfile(st, prof)
			for fn, want := range map[string]bool{
				"parseRecord": true, // noinline_funcs
				tc.renamed:    true,
				tc.kept:       false,
			} {
				if got := hasFunction(p, "DO NOT INLINE: "+workPkg+"."+fn); got != want {
					st.Errorf("noinline.txt lists %s: %s renamed = %v, want %v", tc.file, fn, got, want)
				}
				if !hasFunction(p, workPkg+"."+fn) && !want {
					st.Errorf("%s is not in the profile at all: the test proves nothing", fn)
				}
			}
		}
	})
}

type checkJSON struct {
	Matched float64
	Missing []struct {
		Function string
		Share    float64
	}
}

// bazelCheck runs `bazel run @work_pgo//:check -- -json BUILD` from the
// workspace (BUILD relative to it) and parses its report.
func bazelCheck(t *testing.T, b *bazelEnv, build string) checkJSON {
	t.Helper()
	out, stdout, ok := b.run2("run", "@work_pgo//:check", "--", "-json", build)
	if !ok {
		t.Fatalf("bazel run @work_pgo//:check failed:\n%s", out)
	}
	var rep checkJSON
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &rep); err != nil {
		t.Fatalf("bazel run @work_pgo//:check -- -json printed no JSON object (%v):\n%s", err, out)
	}
	return rep
}

// readmeCompare is bazel/README.md's pgofetch_compare call, with the
// profile of the benchmark (@work_pgo) and the example's source directory.
func readmeCompare(t *testing.T) string {
	t.Helper()
	snippet := readmeSnippet(t, "compare")
	call := regexp.MustCompile(`(?ms)^pgofetch_compare\(\n.*?^\)\n`).FindString(snippet)
	if call == "" || !strings.Contains(call, `"@server_pgo//:default.pgo"`) {
		t.Fatalf("README's compare snippet has no pgofetch_compare(...) of @server_pgo//:default.pgo:\n%s", snippet)
	}
	call = strings.Replace(call, `"@server_pgo//:default.pgo"`, `"@work_pgo//:default.pgo"`, 1)
	return strings.Replace(call, "(\n", "(\n    dir = \"example/internal/work\",\n", 1)
}

func substitute(t *testing.T, path string, subst map[string]string) {
	t.Helper()
	text := string(readFile(t, path))
	for k, v := range subst {
		if !strings.Contains(text, k) {
			t.Fatalf("%s lacks %s", path, k)
		}
		text = strings.ReplaceAll(text, k, v)
	}
	writeFile(t, path, text)
}

func goIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func goEnv(t *testing.T, name string) string {
	return strings.TrimSpace(string(mustOutput(t, "go", "env", name)))
}

// leafFunctions are the functions named with prefix that are a sample's
// leaf (the innermost frame of its first location), but for skip; sorted.
func leafFunctions(p *profile.Profile, prefix, skip string) []string {
	seen := map[string]bool{}
	for _, smp := range p.Sample {
		if len(smp.Location) == 0 || len(smp.Location[0].Line) == 0 || smp.Location[0].Line[0].Function == nil {
			continue
		}
		name := smp.Location[0].Line[0].Function.Name
		if strings.HasPrefix(name, prefix) && name != skip {
			seen[name] = true
		}
	}
	var out []string
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
