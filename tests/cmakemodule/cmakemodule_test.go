// Package cmakemodule tests the CMake integration (cmake-module/) with real
// CMake and a real go build of integrations/example: with every generator
// available (Ninja, Unix Makefiles), against the fake Datadog API and -in
// sources; the rebuild rules (an unchanged profile does not rebuild the Go
// binary, a changed one does), fail-open and FAIL, configure-time argument
// checks, the installed config package and FetchContent of the repository.
package cmakemodule

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// generator is a CMake generator and the build tool it needs.
type generator struct{ name, tool string }

var generators = []generator{{"Ninja", "ninja"}, {"Unix Makefiles", "make"}}

// requireCMake fails the test when cmake is missing (make test installs it).
func requireCMake(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("cmake"); err != nil {
		t.Fatalf("cmake not found: %v", err)
	}
}

// eachGenerator runs f in a subtest per generator, skipping (with a message)
// a generator whose build tool is not installed.
func eachGenerator(t *testing.T, f func(t *testing.T, g generator)) {
	requireCMake(t)
	for _, g := range generators {
		t.Run(strings.ReplaceAll(g.name, " ", ""), func(t *testing.T) {
			if _, err := exec.LookPath(g.tool); err != nil {
				t.Skipf("generator %s: %s is not installed", g.name, g.tool)
			}
			f(t, g)
		})
	}
}

// baseEnv is the test's environment without Datadog or pgofetch settings
// and without the make job server of a `make test` around us.
func baseEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "DD_"), strings.HasPrefix(k, "PGOFETCH"),
			k == "MAKEFLAGS", k == "MFLAGS", k == "MAKELEVEL", k == "CMAKE_GENERATOR",
			k == "SSL_CERT_FILE", k == "CURL_CA_BUNDLE", k == "CI":
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// run runs a command in dir and returns its combined output and error.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must is run, failing the test on an error.
func must(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// pgofetchCopy copies the binary under test into dir, so that a scenario
// runs one binary from start to end even if the original is rebuilt
// meanwhile (a new build may write different bytes, a "changed" profile).
func pgofetchCopy(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(dir, "pgofetch-under-test", "pgofetch")
	write(t, dst, string(read(t, testenv.Pgofetch(t))))
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// moduleDir is cmake-module/ of the repository.
func moduleDir(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "cmake-module")
}

// goWrapper writes a go command that logs each invocation (working
// directory and arguments) to log and runs the real go: the test counts the
// `go build` runs the build tool made.
func goWrapper(t *testing.T, dir string) (wrapper, log string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found: %v", err)
	}
	wrapper = filepath.Join(dir, "go-wrapper")
	log = filepath.Join(dir, "go.log")
	script := "#!/bin/sh\necho \"$PWD $*\" >> '" + log + "'\nexec '" + goBin + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper, log
}

// goBuilds returns the `go build` invocations logged so far.
func goBuilds(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, " build ") {
			out = append(out, l)
		}
	}
	return out
}

// buildInfo is `go version -m` of a binary.
func buildInfo(t *testing.T, bin string) string {
	t.Helper()
	return must(t, "", baseEnv(), "go", "version", "-m", bin)
}

// halved is a profile derived from src with every other sample dropped:
// valid, and different call-edge weights for the compiler.
func halved(t *testing.T, src string) []byte {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var keep []*profile.Sample
	for i, s := range p.Sample {
		if i%2 == 0 {
			keep = append(keep, s)
		}
	}
	p.Sample = keep
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noSecrets fails the test if a key appears in any file under the roots or
// in any of the outputs.
func noSecrets(t *testing.T, keys []string, outputs []string, roots ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, k := range keys {
			if strings.Contains(out, k) {
				t.Errorf("a key appears in the build output:\n%s", out)
			}
		}
	}
	for _, root := range roots {
		filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || !info.Mode().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, k := range keys {
				if bytes.Contains(b, []byte(k)) {
					t.Errorf("a key appears in %s", path)
				}
			}
			return nil
		})
	}
}

// exampleLists is the CMakeLists.txt the tests put into a copy of the
// example: cmd/server from Datadog, cmd/batch from an -in source, both
// through the module.
const exampleLists = `cmake_minimum_required(VERSION 3.20)
project(example LANGUAGES NONE)
include(PGOFetch)

pgofetch_profile(server_pgo
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/pgo/server/default.pgo
  QUERY "service:example-server env:prod"
  PROFILES 3 FROM 24h TIMEOUT 4s)
pgofetch_profile(batch_pgo
  OUTPUT ${CMAKE_CURRENT_SOURCE_DIR}/cmd/batch/default.pgo
  IN "${PGO_IN}")

pgofetch_go_executable(server PACKAGE ./cmd/server PROFILE server_pgo)
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo
  OUTPUT tools/batch-pgo GO_FLAGS -trimpath)
`

// TestExample builds the example through the module with each generator:
// PGO in the binaries, no rebuild on an unchanged profile, a rebuild of
// exactly the binary whose profile changed, fail-open on an outage, and no
// key anywhere.
func TestExample(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := testenv.RealProfile(t)
	grpcData := read(t, grpc)
	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		pgofetch := pgofetchCopy(t, work)
		src := filepath.Join(work, "src")
		bld := filepath.Join(work, "build")
		testenv.CopyTree(t, testenv.Example(t), src)
		os.Remove(filepath.Join(src, "cmd", "batch", "default.pgo"))
		os.Remove(filepath.Join(src, "cmd", "server", "default.pgo"))
		write(t, filepath.Join(src, "CMakeLists.txt"), exampleLists)
		in := filepath.Join(work, "in.pprof")
		write(t, in, string(grpcData))
		wrapper, golog := goWrapper(t, work)

		s, keys := fakeAPI(t, work, "server-1", "example-server", grpcData)
		env := baseEnv(keys...)

		// As CI builds do: a fetch on every build (TestRealProject has the
		// local builds' freshness window).
		args := []string{"-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH=" + moduleDir(t),
			"-DPGOFETCH_GO_EXECUTABLE=" + wrapper,
			"-DPGOFETCH_MAX_AGE=0",
			"-DPGO_IN=" + in}
		if g.tool == "ninja" {
			// find_program: pgofetch on PATH, no PGOFETCH_EXECUTABLE.
			pathDir := filepath.Join(work, "path")
			os.MkdirAll(pathDir, 0o755)
			if err := os.Symlink(pgofetch, filepath.Join(pathDir, "pgofetch")); err != nil {
				t.Fatal(err)
			}
			env = append(env, "PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		} else {
			args = append(args, "-DPGOFETCH_EXECUTABLE="+pgofetch)
		}
		var outputs []string
		outputs = append(outputs, must(t, work, env, "cmake", args...))
		cache := string(read(t, filepath.Join(bld, "CMakeCache.txt")))
		if g.tool == "ninja" && !strings.Contains(cache, "PGOFETCH_EXECUTABLE:FILEPATH="+filepath.Join(work, "path", "pgofetch")) {
			t.Errorf("find_program did not find pgofetch on PATH; CMakeCache.txt:\n%s", testenv.GrepLines(cache, "PGOFETCH"))
		}

		serverPGO := filepath.Join(bld, "pgo", "server", "default.pgo")
		batchPGO := filepath.Join(src, "cmd", "batch", "default.pgo")
		serverBin := filepath.Join(bld, "bin", "server")
		batchBin := filepath.Join(bld, "tools", "batch-pgo")
		build := func(what string) string {
			t.Helper()
			out, err := run(t, work, env, "cmake", "--build", bld)
			outputs = append(outputs, out)
			if err != nil {
				t.Fatalf("%s: cmake --build: %v\n%s", what, err, out)
			}
			return out
		}

		// 1. The first build fetches both profiles and builds both binaries with them.
		build("first build")
		if n := len(goBuilds(t, golog)); n != 2 {
			t.Fatalf("first build: %d go builds, want 2: %q", n, goBuilds(t, golog))
		}
		if info := buildInfo(t, serverBin); !strings.Contains(info, "-pgo="+serverPGO) {
			t.Errorf("server: go version -m has no -pgo=%s:\n%s", serverPGO, info)
		}
		info := buildInfo(t, batchBin)
		if !regexp.MustCompile(`build\s+-pgo=\S*default\.pgo`).MatchString(info) || !strings.Contains(info, "-trimpath=true") {
			t.Errorf("batch: go version -m lacks -pgo=…default.pgo or GO_FLAGS' -trimpath:\n%s", info)
		}
		if out := must(t, work, baseEnv(), batchBin, "-iterations", "50"); len(strings.TrimSpace(out)) != 16 {
			t.Errorf("batch printed %q, want a 16-digit checksum", out)
		}
		gopgo := 0
		for _, r := range s.Requests() {
			if r.Path == fakedd.PathGoPGO {
				gopgo++
			}
		}
		if gopgo == 0 {
			t.Fatalf("the fake Datadog API got no gopgo request: %+v", s.Requests())
		}

		// 2. Same profiles: both are refreshed, neither binary is rebuilt.
		serverData, batchData := read(t, serverPGO), read(t, batchPGO)
		serverTime, batchTime := mtime(t, serverPGO), mtime(t, batchPGO)
		serverBinTime, batchBinTime := mtime(t, serverBin), mtime(t, batchBin)
		reqs := len(s.Requests())
		time.Sleep(1100 * time.Millisecond) // a rewrite would show in the mtime
		out := build("unchanged build")
		if len(s.Requests()) <= reqs {
			t.Errorf("unchanged build: pgofetch did not ask the API again (profiles refresh on every build)")
		}
		if n := goBuilds(t, golog); len(n) != 2 {
			t.Errorf("unchanged profiles rebuilt a Go binary: %q\n%s", after(n, 2), out)
		}
		if !mtime(t, serverPGO).Equal(serverTime) || !mtime(t, batchPGO).Equal(batchTime) {
			t.Errorf("an unchanged profile was rewritten")
		}
		if !mtime(t, serverBin).Equal(serverBinTime) || !mtime(t, batchBin).Equal(batchBinTime) {
			t.Errorf("an unchanged profile touched a Go binary")
		}

		// 3. Datadog serves other profiles: only the server is rebuilt.
		s.SetGeneration(1)
		out = build("changed Datadog profile")
		builds := goBuilds(t, golog)
		if len(builds) != 3 || !strings.Contains(builds[2], "./cmd/server") {
			t.Errorf("a changed server profile: go builds %q, want one more, of ./cmd/server\n%s", after(builds, 2), out)
		}
		if bytes.Equal(read(t, serverPGO), serverData) {
			t.Errorf("the server profile did not change with the served profiles")
		}
		if !mtime(t, serverBin).After(serverBinTime) {
			t.Errorf("the server binary was not rewritten")
		}
		if !strings.Contains(buildInfo(t, serverBin), "-pgo="+serverPGO) {
			t.Errorf("the rebuilt server has no -pgo=")
		}

		// 4. The -in source changes: only batch is rebuilt.
		write(t, in, string(halved(t, grpc)))
		out = build("changed -in profile")
		builds = goBuilds(t, golog)
		if len(builds) != 4 || !strings.Contains(builds[3], "./cmd/batch") {
			t.Errorf("a changed batch profile: go builds %q, want one more, of ./cmd/batch\n%s", after(builds, 3), out)
		}
		if bytes.Equal(read(t, batchPGO), batchData) {
			t.Errorf("the batch profile did not change with its -in source")
		}

		// 5. An outage (Datadog down, the -in file gone): the build succeeds,
		// the profiles stay exactly as they were, nothing is rebuilt.
		serverData, batchData = read(t, serverPGO), read(t, batchPGO)
		serverTime, batchTime = mtime(t, serverPGO), mtime(t, batchPGO)
		s.SetOutage(true)
		os.Remove(in)
		time.Sleep(1100 * time.Millisecond)
		out = build("outage")
		if !regexp.MustCompile(`(?m)^ERR .*\n(.*\n)*WRN `).MatchString(out) {
			t.Errorf("the outage build does not show pgofetch's error and warning:\n%s", out)
		}
		if !bytes.Equal(read(t, serverPGO), serverData) || !bytes.Equal(read(t, batchPGO), batchData) ||
			!mtime(t, serverPGO).Equal(serverTime) || !mtime(t, batchPGO).Equal(batchTime) {
			t.Errorf("an outage changed a profile")
		}
		if n := goBuilds(t, golog); len(n) != 4 {
			t.Errorf("an outage rebuilt a Go binary: %q", after(n, 4))
		}
		if !strings.Contains(buildInfo(t, batchBin), "-pgo=") {
			t.Errorf("batch lost its profile")
		}

		noSecrets(t, []string{s.APIKey(), s.AppKey()}, outputs, src, bld)
	})
}

// TestFirstBuildOutage: no profile was ever fetched and the source is down:
// the build succeeds without PGO, and builds with it once the source is back.
func TestFirstBuildOutage(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := read(t, testenv.RealProfile(t))
	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		pgofetch := pgofetchCopy(t, work)
		src := filepath.Join(work, "src")
		bld := filepath.Join(work, "build")
		testenv.CopyTree(t, testenv.Example(t), src)
		os.Remove(filepath.Join(src, "cmd", "batch", "default.pgo"))
		in := filepath.Join(work, "in.pprof")
		write(t, filepath.Join(src, "CMakeLists.txt"), `cmake_minimum_required(VERSION 3.20)
project(example LANGUAGES NONE)
include(PGOFetch)
pgofetch_profile(batch_pgo OUTPUT pgo/default.pgo IN "${PGO_IN}")
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo)
`)
		wrapper, golog := goWrapper(t, work)
		env := baseEnv()
		must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch,
			"-DPGOFETCH_GO_EXECUTABLE="+wrapper, "-DPGO_IN="+in)
		out := must(t, work, env, "cmake", "--build", bld)
		pgo := filepath.Join(bld, "pgo", "default.pgo")
		if _, err := os.Stat(pgo); err == nil {
			t.Fatalf("a failed fetch left a profile")
		}
		bin := filepath.Join(bld, "bin", "batch")
		if info := buildInfo(t, bin); strings.Contains(info, "-pgo=") {
			t.Errorf("built with PGO without a profile:\n%s\n%s", info, out)
		}
		if len(goBuilds(t, golog)) != 1 {
			t.Errorf("go builds: %q", goBuilds(t, golog))
		}
		write(t, in, string(grpc))
		out = must(t, work, env, "cmake", "--build", bld)
		if info := buildInfo(t, bin); !strings.Contains(info, "-pgo="+pgo) {
			t.Errorf("the source is back, but the binary has no -pgo=%s:\n%s\n%s", pgo, info, out)
		}
	})
}

// TestFail: with FAIL an unreachable source fails the build (and the Go
// binary depending on it is not built); without it the same build passes.
func TestFail(t *testing.T) {
	testenv.Pgofetch(t)
	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		pgofetch := pgofetchCopy(t, work)
		src := filepath.Join(work, "src")
		testenv.CopyTree(t, testenv.Example(t), src)
		wrapper, golog := goWrapper(t, work)
		s, err := fakedd.Start(fakedd.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.SetOutage(true)
		ca := filepath.Join(work, "ca.pem")
		write(t, ca, string(s.CAPEM()))
		env := baseEnv("DD_API_KEY="+s.APIKey(), "DD_APP_KEY="+s.AppKey(),
			"PGOFETCH_API_URL="+s.URL(), "SSL_CERT_FILE="+ca)
		write(t, filepath.Join(src, "CMakeLists.txt"), `cmake_minimum_required(VERSION 3.20)
project(example LANGUAGES NONE)
include(PGOFetch)
pgofetch_profile(dd_fail OUTPUT dd/default.pgo QUERY "service:example-server" TIMEOUT 2s FAIL)
pgofetch_profile(in_fail OUTPUT in/default.pgo IN missing.pprof FAIL)
pgofetch_profile(in_open OUTPUT open/default.pgo IN missing.pprof)
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE in_fail)
`)
		bld := filepath.Join(work, "build")
		must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch,
			"-DPGOFETCH_GO_EXECUTABLE="+wrapper)
		for _, target := range []string{"dd_fail", "in_fail", "batch"} {
			out, err := run(t, work, env, "cmake", "--build", bld, "--target", target)
			if err == nil {
				t.Errorf("target %s: the build passed with FAIL and an unreachable source:\n%s", target, out)
			}
			noSecrets(t, []string{s.APIKey(), s.AppKey()}, []string{out})
		}
		if n := goBuilds(t, golog); len(n) != 0 {
			t.Errorf("go build ran after its profile failed: %q", n)
		}
		if out, err := run(t, work, env, "cmake", "--build", bld, "--target", "in_open"); err != nil {
			t.Errorf("without FAIL the same failure failed the build: %v\n%s", err, out)
		}
	})
}

// TestBadArguments: each mistake fails at configure time with a message
// that names it.
func TestBadArguments(t *testing.T) {
	requireCMake(t)
	pgofetch := testenv.Pgofetch(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	ex := filepath.Join(work, "example")
	testenv.CopyTree(t, testenv.Example(t), ex)
	emptyPath := filepath.Join(work, "empty-path")
	os.MkdirAll(emptyPath, 0o755)
	gen := "Unix Makefiles"
	if _, err := exec.LookPath("ninja"); err == nil {
		gen = "Ninja"
	}
	const profile = "pgofetch_profile(p OUTPUT p.pgo IN x.pprof)\n"
	cases := []struct {
		name, body, want string
		noTools          bool // pgofetch and go not given, nothing on PATH
	}{
		{"unknown keyword", "pgofetch_profile(p BOGUS more OUTPUT p.pgo IN x.pprof)",
			`pgofetch_profile\(p\): unknown keyword BOGUS`, false},
		{"misspelt keyword after QUERY", "pgofetch_profile(p OUTPUT p.pgo QUERY \"service:x env:prod\" TIMOUT 10s)",
			`pgofetch_profile\(p\): unknown keyword TIMOUT \(the keywords are OUTPUT PROFILES FROM TIMEOUT`, false},
		{"misspelt keyword after IN", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof PROFILE 3)",
			`pgofetch_profile\(p\): PROFILE is a keyword of pgofetch_go_executable\(\), not of pgofetch_profile\(\)`, false},
		{"word after an option", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof FAIL yes)",
			`pgofetch_profile\(p\): unexpected argument\(s\): yes`, false},
		{"keyword twice", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof OUTPUT q.pgo)",
			`pgofetch_profile\(p\): OUTPUT is given twice`, false},
		{"missing OUTPUT", "pgofetch_profile(p IN x.pprof)",
			`pgofetch_profile\(p\): OUTPUT <file> is required`, false},
		{"no QUERY or IN", "pgofetch_profile(p OUTPUT p.pgo)",
			`pgofetch_profile\(p\): give at least one QUERY <query> or IN <source>`, false},
		{"keyword without value", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof PROFILES)",
			`pgofetch_profile\(p\): keyword\(s\) given without a value: PROFILES`, false},
		// Values are checked by pgofetch itself, whose message names them.
		{"bad PROFILES", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof PROFILES five)",
			`pgofetch_profile\(p\): PROFILES: invalid value "five" for flag -profiles`, false},
		{"bad duration", "pgofetch_profile(p OUTPUT p.pgo QUERY service:x TIMEOUT 10)",
			`pgofetch_profile\(p\): TIMEOUT: invalid value "10" for flag -timeout: parse error`, false},
		{"zero timeout", "pgofetch_profile(p OUTPUT p.pgo QUERY service:x TIMEOUT 0s)",
			`pgofetch_profile\(p\): TIMEOUT: invalid value for flag -timeout: must be positive`, false},
		{"bad MAX_AGE", "pgofetch_profile(p OUTPUT p.pgo QUERY service:x MAX_AGE 1day)",
			`pgofetch_profile\(p\): MAX_AGE: invalid value "1day" for flag -max-age`, false},
		{"bad PGOFETCH_MAX_AGE", "set(PGOFETCH_MAX_AGE 2days)\n" + profile,
			`pgofetch_profile\(p\): PGOFETCH_MAX_AGE: invalid value "2days" for flag -max-age`, false},
		{"bad TRIM", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof TRIM maybe)",
			`TRIM must be ON or OFF, not maybe`, false},
		{"bad NOINLINE_FUNC", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof NOINLINE_FUNC main.ok \"main.(bad\")",
			`pgofetch_profile\(p\): NOINLINE_FUNC: -noinline-func: invalid regular expression "main\.\(bad"`, false},
		{"empty NOINLINE_FUNC", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof NOINLINE_FUNC \"\")",
			`pgofetch_profile\(p\): NOINLINE_FUNC has an empty regular expression`, false},
		{"missing NOINLINE_FILE", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof NOINLINE_FILE nope.txt)",
			`pgofetch_profile\(p\): NOINLINE_FILE: -noinline-file .*/nope.txt: No such file or directory`, false},
		{"bad WEIGHT", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof WEIGHT -1 y.pprof)",
			`pgofetch_profile\(p\): WEIGHT: invalid value "-1" for flag -weight: want a number, 0 or more`, false},
		{"every WEIGHT 0", "pgofetch_profile(p OUTPUT p.pgo QUERY WEIGHT 0 service:x IN WEIGHT 0 x.pprof)",
			`pgofetch_profile\(p\): every source has -weight 0`, false},
		{"WEIGHT after a query", "pgofetch_profile(p OUTPUT p.pgo QUERY service:x WEIGHT 2 service:y)",
			`pgofetch_profile\(p\): QUERY: WEIGHT must come before the first query`, false},
		{"WEIGHT weighing nothing", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof WEIGHT 2)",
			`pgofetch_profile\(p\): IN: WEIGHT 2 is followed by no source`, false},
		{"WEIGHT outside IN", "pgofetch_profile(p OUTPUT p.pgo WEIGHT 2 IN x.pprof)",
			`pgofetch_profile\(p\): WEIGHT belongs in the IN or QUERY list`, false},
		{"bad PGOFETCH_MODE", "set(PGOFETCH_MODE fetched)\n" + profile,
			`pgofetch_profile\(p\): PGOFETCH_MODE must be fetch or committed, not "fetched"`, false},
		{"bad MODE", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof MODE commited)",
			`pgofetch_profile\(p\): MODE must be fetch or committed, not "commited"`, false},
		{"go: committed import path", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof MODE committed)\n" +
			"pgofetch_go_executable(g PACKAGE example.com/pgofetch-example/cmd/batch PROFILE p WORKING_DIRECTORY " + ex + ")",
			`pgofetch_go_executable\(g\): PROFILE p is committed, read from the main package's default.pgo: give PACKAGE as a path`, false},
		{"LIST without the package", "file(WRITE ${CMAKE_CURRENT_SOURCE_DIR}/pgofetch.list \"# packages\\n\\ncmd/api -in a.pprof\\n  ./cmd/worker/ svc:w\\n\")\n" +
			"pgofetch_profile(p LIST pgofetch.list LIST_PACKAGE cmd/batch)",
			`pgofetch_profile\(p\): LIST_PACKAGE cmd/batch is not in .*/pgofetch.list \(its packages: cmd/api ./cmd/worker/\)`, false},
		{"LIST missing", "pgofetch_profile(p LIST nope.list LIST_PACKAGE cmd/batch)",
			`pgofetch_profile\(p\): LIST .*/nope.list is not a file`, false},
		{"LIST without LIST_PACKAGE", "pgofetch_profile(p LIST nope.list)",
			`pgofetch_profile\(p\): LIST needs LIST_PACKAGE <dir>`, false},
		{"LIST with QUERY", "pgofetch_profile(p LIST nope.list LIST_PACKAGE cmd/batch QUERY svc:x)",
			`pgofetch_profile\(p\): QUERY does not go with LIST: the list's line for the package says it`, false},
		{"LIST with OUTPUT", "pgofetch_profile(p LIST nope.list LIST_PACKAGE cmd/batch OUTPUT p.pgo)",
			`pgofetch_profile\(p\): OUTPUT does not go with LIST: the profile is <package>/default.pgo beside the list`, false},
		{"go: NOINLINE_FUNC", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch NOINLINE_FUNC main\\.x)",
			`pgofetch_go_executable\(g\): NOINLINE_FUNC is a keyword of pgofetch_profile\(\)`, false},
		{"no name", "pgofetch_profile(OUTPUT p.pgo IN x.pprof)",
			`pgofetch_profile: the first argument must be a target name, not the keyword OUTPUT`, false},
		{"no arguments", "pgofetch_profile()",
			`pgofetch_profile: the first argument must be a target name`, false},
		{"target exists", "add_custom_target(p)\n" + profile,
			`pgofetch_profile\(p\): a target named p already exists`, false},
		{"go: missing PACKAGE", profile + "pgofetch_go_executable(g PROFILE p)",
			`pgofetch_go_executable\(g\): PACKAGE <./cmd/foo> is required`, false},
		{"go: unknown keyword", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch FLAGS -race)",
			`pgofetch_go_executable\(g\): unknown keyword FLAGS`, false},
		{"go: misspelt keyword after GO_FLAGS", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch GO_FLAGS -trimpath GOAARCH arm64)",
			`pgofetch_go_executable\(g\): unknown keyword GOAARCH`, false},
		{"go: profile keyword", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch PROFILE p TIMEOUT 1s)",
			`pgofetch_go_executable\(g\): TIMEOUT is a keyword of pgofetch_profile\(\), not of pgofetch_go_executable\(\)`, false},
		{"go: bad ENV", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch ENV arm7)",
			`pgofetch_go_executable\(g\): ENV arm7 is not NAME=value`, false},
		{"go: CHECK_BELOW over 100", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch CHECK_BELOW 120)",
			`pgofetch_go_executable\(g\): CHECK_BELOW must be a percentage, 0 to 100, not 120`, false},
		{"go: CHECK_BELOW not a number", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch CHECK_BELOW 80%)",
			`pgofetch_go_executable\(g\): CHECK_BELOW must be a percentage, 0 to 100, not 80%`, false},
		{"go: COMPARE_FLAGS without a value", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch COMPARE_FLAGS)",
			`pgofetch_go_executable\(g\): keyword\(s\) given without a value: COMPARE_FLAGS`, false},
		{"go: misspelt keyword after COMPARE_PACKAGES", profile + "pgofetch_go_executable(g PACKAGE ./cmd/batch COMPARE_PACKAGES ./... CHECK_BELLOW 80)",
			`pgofetch_go_executable\(g\): unknown keyword CHECK_BELLOW`, false},
		{"go: undefined PROFILE", "pgofetch_go_executable(g PACKAGE ./cmd/batch PROFILE nope)",
			`PROFILE nope is not a target; define it with pgofetch_profile\(\) first`, false},
		{"go: PROFILE not a profile", "add_custom_target(other)\npgofetch_go_executable(g PACKAGE ./cmd/batch PROFILE other)",
			`PROFILE other is not a pgofetch_profile\(\) target`, false},
		{"go: no module", "pgofetch_go_executable(g PACKAGE ./cmd/batch WORKING_DIRECTORY /)",
			`pgofetch_go_executable\(g\): no go.mod in / or above`, false},
		{"go: OUTPUT clashes with the target", "pgofetch_go_executable(g PACKAGE ./cmd/batch OUTPUT g)",
			`OUTPUT .*/g has the target's name`, false},
		// Missing pgofetch is only a warning (TestMissingPgofetch) unless failing is asked for.
		{"pgofetch not found, PGOFETCH_FAIL", "set(PGOFETCH_FAIL ON)\n" + profile,
			`pgofetch_profile\(p\): the pgofetch program was not found.*PGOFETCH_EXECUTABLE`, true},
		{"pgofetch not found, FAIL", "pgofetch_profile(p OUTPUT p.pgo IN x.pprof FAIL)",
			`pgofetch_profile\(p\): the pgofetch program was not found.*PGOFETCH_EXECUTABLE`, true},
		{"go not found", "pgofetch_go_executable(g PACKAGE ./cmd/batch)",
			`pgofetch_go_executable\(g\): the Go toolchain \(go\) was not found.*PGOFETCH_GO_EXECUTABLE`, true},
		{"PGOFETCH_EXECUTABLE not a file, FAIL", "set(PGOFETCH_EXECUTABLE /nonexistent/pgofetch)\nset(PGOFETCH_FAIL ON)\n" + profile,
			`PGOFETCH_EXECUTABLE is /nonexistent/pgofetch, which is not a file`, false},
	}
	for i, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			dir := filepath.Join(work, "p", string(rune('a'+i)))
			args := []string{"-S", dir, "-B", filepath.Join(dir, "build"), "-G", gen,
				"-DCMAKE_MODULE_PATH=" + moduleDir(t)}
			env := baseEnv()
			if c.noTools {
				mk, _ := exec.LookPath(map[string]string{"Ninja": "ninja", "Unix Makefiles": "make"}[gen])
				args = append(args, "-DCMAKE_MAKE_PROGRAM="+mk, "-DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF")
				env = baseEnv("PATH="+emptyPath, "GOROOT=")
			} else {
				args = append(args, "-DPGOFETCH_EXECUTABLE="+pgofetch, "-DPGOFETCH_GO_EXECUTABLE="+goBin)
			}
			// The go commands run in the example module.
			body := c.body
			if !strings.Contains(body, "WORKING_DIRECTORY") {
				body = strings.ReplaceAll(body, "./cmd/batch", "./cmd/batch WORKING_DIRECTORY "+ex)
			}
			write(t, filepath.Join(dir, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.20)\n"+
				"project(bad LANGUAGES NONE)\ninclude(PGOFetch)\n"+body+"\n")
			out, err := run(t, dir, env, cmakePath(t), args...)
			if err == nil {
				t.Fatalf("configure passed, want an error matching %q:\n%s", c.want, out)
			}
			flat := strings.Join(strings.Fields(out), " ")
			if !regexp.MustCompile(c.want).MatchString(flat) {
				t.Errorf("configure error does not match %q:\n%s", c.want, out)
			}
			if !strings.Contains(out, "CMakeLists.txt:") {
				t.Errorf("the error does not point at the caller's CMakeLists.txt:\n%s", out)
			}
		})
	}

	// The default freshness: 24h for local builds, 0 (fetch on every
	// build) when CI says it is CI.
	t.Run("freshness default", func(t *testing.T) {
		for i, c := range []struct{ ci, want string }{{"", "-max-age=24h"}, {"CI=true", "-max-age=0"}, {"CI=false", "-max-age=24h"}} {
			dir := filepath.Join(work, "fresh", string(rune('a'+i)))
			write(t, filepath.Join(dir, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.20)\n"+
				"project(fresh LANGUAGES NONE)\ninclude(PGOFetch)\n"+profile)
			env := baseEnv()
			if c.ci != "" {
				env = append(env, c.ci)
			}
			must(t, dir, env, "cmake", "-S", dir, "-B", filepath.Join(dir, "build"), "-G", gen,
				"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch)
			cache := string(read(t, filepath.Join(dir, "build", "CMakeCache.txt")))
			if !strings.Contains(cache, "PGOFETCH_MAX_AGE:STRING="+strings.TrimPrefix(c.want, "-max-age=")+"\n") {
				t.Errorf("%q: PGOFETCH_MAX_AGE is not %s:\n%s", c.ci, c.want, testenv.GrepLines(cache, "MAX_AGE"))
			}
		}
	})

	// And a correct use configures, as a control.
	t.Run("control", func(t *testing.T) {
		dir := filepath.Join(work, "good")
		write(t, filepath.Join(dir, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.20)\n"+
			"project(good LANGUAGES NONE)\ninclude(PGOFetch)\n"+
			"pgofetch_profile(p OUTPUT p.pgo QUERY WEIGHT 2 \"service:x env:prod\" IN WEIGHT 0.5 x.pprof PROFILES 2 FROM 1h30m TIMEOUT 500ms MAX_AGE 24h TRIM OFF FAIL NORMALIZE)\n"+
			"pgofetch_go_executable(g PACKAGE ./cmd/batch WORKING_DIRECTORY "+ex+" PROFILE p GO_FLAGS -trimpath -v\n"+
			"  CHECK_BELOW 80.5 COMPARE_PACKAGES ./internal/... COMPARE_FLAGS -bench Unit -count 8)\n")
		must(t, dir, baseEnv(), "cmake", "-S", dir, "-B", filepath.Join(dir, "build"), "-G", gen,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch, "-DPGOFETCH_GO_EXECUTABLE="+goBin)
		// The flags as pgofetch gets them, in the generated build file.
		var buildFile []byte
		if gen == "Ninja" {
			buildFile = read(t, filepath.Join(dir, "build", "build.ninja"))
		} else {
			buildFile = read(t, filepath.Join(dir, "build", "CMakeFiles", "p.dir", "build.make"))
		}
		// And those of the compare and check targets, in theirs.
		var compare, check []byte
		if gen == "Ninja" {
			compare, check = buildFile, buildFile
		} else {
			compare = read(t, filepath.Join(dir, "build", "CMakeFiles", "g_pgo_compare.dir", "build.make"))
			check = read(t, filepath.Join(dir, "build", "CMakeFiles", "g_pgo_check.dir", "build.make"))
		}
		for _, want := range []string{"-dir " + ex + " -build ./cmd/batch -bench Unit -count 8 ./internal/..."} {
			if !bytes.Contains(compare, []byte(want)) {
				t.Errorf("the compare command lacks %q", want)
			}
		}
		if want := "-fail-below 80.5 " + filepath.Join(dir, "build", "p.pgo") + " " + filepath.Join(dir, "build", "bin", "g"); !bytes.Contains(check, []byte(want)) {
			t.Errorf("the check command lacks %q", want)
		}
		for _, want := range []string{"-profiles=2", "-from=1h30m", "-timeout=500ms", "-max-age=24h",
			"-trim=false", "-fail", "-normalize", "-weight=0.5 -in=" + filepath.Join(dir, "x.pprof") + " -weight=2 --",
			"service:x env:prod"} {
			if !bytes.Contains(buildFile, []byte(want)) {
				t.Errorf("the pgofetch command lacks %q", want)
			}
		}
	})
}

// cmakePath is cmake's absolute path (the no-tools cases empty PATH).
func cmakePath(t *testing.T) string {
	p, err := exec.LookPath("cmake")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(p)
	return abs
}

// after is s[i:], or nothing when s is shorter.
func after(s []string, i int) []string {
	if len(s) <= i {
		return nil
	}
	return s[i:]
}
