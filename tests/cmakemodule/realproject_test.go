package cmakemodule

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// realModule is the third-party Go project the module is tried on: pprof's
// command (a main package at the module root, //go:embed of its web UI,
// three dependencies), as the Go module proxy serves it.
const realModule = "github.com/google/pprof@v0.0.0-20260906184651-6331bc6350fe"

// quickStart is the cmake block of cmake-module/README.md's "Quick start",
// which the tests put into the real project as a user would, naming its
// main package and service.
func quickStart(t *testing.T, pkg, service string) string {
	t.Helper()
	readme := string(read(t, filepath.Join(moduleDir(t), "README.md")))
	m := regexp.MustCompile("(?s)## Quick start\n.*?```cmake\n(.*?)```").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("cmake-module/README.md has no cmake block under ## Quick start")
	}
	lists := m[1]
	for _, want := range []string{"./cmd/server", "service:my-server env:prod", `"${CMAKE_CURRENT_SOURCE_DIR}/cmake"`} {
		if !strings.Contains(lists, want) {
			t.Fatalf("the quick start no longer has %q; update the test with it:\n%s", want, lists)
		}
	}
	lists = strings.ReplaceAll(lists, "./cmd/server", pkg)
	return strings.ReplaceAll(lists, "service:my-server env:prod", service)
}

// realSource is the real project's source as the module proxy serves it
// (a skip, loud, when it cannot), once the test's tools are there.
func realSource(t *testing.T) string {
	t.Helper()
	testenv.Pgofetch(t)
	requireCMake(t)
	cache := filepath.Join(t.TempDir(), "pprof")
	testenv.ModuleSource(t, realModule, cache)
	return cache
}

// realProject copies the real project into dir and wires the module in as
// the quick start says: the module's files in cmake/, its CMakeLists.txt.
func realProject(t *testing.T, cache, dir string) {
	t.Helper()
	testenv.CopyTree(t, cache, dir)
	testenv.CopyTree(t, moduleDir(t), filepath.Join(dir, "cmake"))
	os.Remove(filepath.Join(dir, "cmake", "CMakeLists.txt")) // the repository's own, not the module
	os.Remove(filepath.Join(dir, "cmake", "PGOFetchConfig.cmake.in"))
	write(t, filepath.Join(dir, "CMakeLists.txt"), quickStart(t, ".", "service:pprof-web env:prod"))
}

// fileID is what a rewritten or relinked file changes: inode and mtime.
type fileID struct {
	ino   uint64
	mtime time.Time
}

func idOf(t *testing.T, path string) fileID {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileID{st.Sys().(*syscall.Stat_t).Ino, st.ModTime()}
}

// userEnv is a user's shell: the go wrapper (named go, found by the
// module's find_program) and pgofetch (unless pgofetchDir is empty) on
// PATH, no GOROOT to point past the wrapper, offline Go.
func userEnv(goDir, pgofetchDir string, extra ...string) []string {
	path := goDir
	if pgofetchDir != "" {
		path += string(os.PathListSeparator) + pgofetchDir
	}
	path += string(os.PathListSeparator) + os.Getenv("PATH")
	var env []string
	for _, kv := range baseEnv() {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "GOROOT" || k == "GOPROXY" || k == "GOFLAGS" || k == "GOTOOLCHAIN" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH="+path, "GOPROXY=off", "GOTOOLCHAIN=local")
	return append(env, extra...)
}

// goOnPath is goWrapper installed as dir/go.
func goOnPath(t *testing.T, work string) (dir, log string) {
	t.Helper()
	wrapper, log := goWrapper(t, work)
	dir = filepath.Join(work, "gobin")
	os.MkdirAll(dir, 0o755)
	if err := os.Rename(wrapper, filepath.Join(dir, "go")); err != nil {
		t.Fatal(err)
	}
	return dir, log
}

// countLines counts the lines of out matching re.
func countLines(out, re string) int {
	return len(regexp.MustCompile("(?m)"+re).FindAllString(out, -1))
}

// fakeAPI starts the fake Datadog API (stopped when the test ends) serving
// data as the profile id of service, and returns it with the environment
// that points pgofetch at it with its keys.
func fakeAPI(t *testing.T, work, id, service string, data []byte) (*fakedd.Server, []string) {
	t.Helper()
	s, err := fakedd.Start(fakedd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.AddProfile(fakedd.Profile{ID: id, Data: data, Service: service}); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(work, "ca.pem")
	write(t, ca, string(s.CAPEM()))
	return s, []string{"DD_API_KEY=" + s.APIKey(), "DD_APP_KEY=" + s.AppKey(),
		"PGOFETCH_API_URL=" + s.URL(), "SSL_CERT_FILE=" + ca}
}

// TestRealProject runs the scenarios users hit on a real third-party Go
// project wired in as the README's quick start says, with each generator:
// a contributor without keys or network, keys and the API up, an outage
// after a good fetch, a changed profile, the local freshness window, the
// inputs Go reports (an embedded file rebuilds, a test file does not),
// install, committed mode, and the keys nowhere.
func TestRealProject(t *testing.T) {
	cache := realSource(t)
	grpc := read(t, testenv.RealProfile(t))

	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		pgofetchDir := filepath.Dir(pgofetchCopy(t, work))
		goDir, golog := goOnPath(t, work)
		src := filepath.Join(work, "src")
		bld := filepath.Join(work, "build")
		realProject(t, cache, src)
		bin := filepath.Join(bld, "bin", "server")
		pgo := filepath.Join(bld, "pgo", "server", "default.pgo")

		s, keys := fakeAPI(t, work, "web-1", "pprof-web", grpc)
		var outputs []string
		build := func(what string, env []string) string {
			t.Helper()
			out, err := run(t, work, env, "cmake", "--build", bld)
			outputs = append(outputs, out)
			if err != nil {
				t.Fatalf("%s: cmake --build: %v\n%s", what, err, out)
			}
			return out
		}
		goBuildsNow := func() int { return len(goBuilds(t, golog)) }

		// Configured without keys: they come from the build's environment.
		outputs = append(outputs, must(t, work, userEnv(goDir, pgofetchDir), "cmake", "-S", src, "-B", bld, "-G", g.name))

		// 1. A contributor: no keys, no network (the API URL is a closed
		// port), no profile. One build without PGO, one line says so and
		// what to do; the next build does nothing.
		// A default.pgo in the package's directory, which Go's -pgo=auto
		// would take, is not the declared profile: still no PGO.
		stray := filepath.Join(src, "default.pgo")
		write(t, stray, string(grpc))
		offline := userEnv(goDir, pgofetchDir, "PGOFETCH_API_URL=https://127.0.0.1:1")
		out := build("no keys", offline)
		if err := os.Remove(stray); err != nil {
			t.Fatal(err)
		}
		if n := goBuildsNow(); n != 1 {
			t.Fatalf("no keys: %d go builds, want 1", n)
		}
		if info := buildInfo(t, bin); strings.Contains(info, "-pgo=") {
			t.Errorf("no keys: built with PGO:\n%s", info)
		}
		const without = `^pgofetch: building server without PGO: no profile .* yet \(set DD_API_KEY and DD_APP_KEY`
		if countLines(out, without) != 1 {
			t.Errorf("no keys: want one line matching %q:\n%s", without, out)
		}
		first := idOf(t, bin)
		out = build("no keys again", offline)
		if n := goBuildsNow(); n != 1 || idOf(t, bin) != first {
			t.Errorf("no keys, second build: go builds %d (want 1), binary %v then %v\n%s", n, first, idOf(t, bin), out)
		}
		if countLines(out, without) != 0 {
			t.Errorf("no keys, second build: it said again it builds without PGO:\n%s", out)
		}

		// 2. Keys and the API up: fetched, built with -pgo=; the next
		// builds (within the freshness window, and fetching again) rewrite
		// and relink nothing.
		withKeys := userEnv(goDir, pgofetchDir, keys...)
		build("keys", withKeys)
		if n := goBuildsNow(); n != 2 {
			t.Fatalf("keys: %d go builds, want 2", n)
		}
		if info := buildInfo(t, bin); !strings.Contains(info, "-pgo="+pgo) {
			t.Fatalf("keys: go version -m has no -pgo=%s:\n%s", pgo, info)
		}
		good, goodID, binID := read(t, pgo), idOf(t, pgo), idOf(t, bin)
		time.Sleep(1100 * time.Millisecond) // a rewrite would show in the mtime
		reqs := len(s.Requests())
		out = build("keys, fresh profile", withKeys)
		if len(s.Requests()) != reqs || !strings.Contains(out, "younger than -max-age") {
			t.Errorf("a profile seconds old was fetched again (local builds take one up to 24h old):\n%s", out)
		}
		out = build("keys, refetch", append(withKeys, "PGOFETCH_MAX_AGE=0"))
		if len(s.Requests()) == reqs {
			t.Errorf("PGOFETCH_MAX_AGE=0 in the build's environment did not fetch")
		}
		if n := goBuildsNow(); n != 2 || idOf(t, bin) != binID || idOf(t, pgo) != goodID {
			t.Errorf("the same profile again: go builds %d (want 2), binary or profile rewritten\n%s", n, out)
		}

		// 3. The API goes down, a refresh forced: the build succeeds, the
		// profile stays byte for byte, nothing is relinked.
		s.SetOutage(true)
		out = build("outage", append(withKeys, "PGOFETCH_MAX_AGE=0"))
		if !regexp.MustCompile(`(?m)^ERR .*\n(.*\n)*WRN `).MatchString(out) {
			t.Errorf("outage: pgofetch's error and warning are not shown:\n%s", out)
		}
		if !bytes.Equal(read(t, pgo), good) || idOf(t, pgo) != goodID {
			t.Errorf("outage: the last good profile changed")
		}
		if n := goBuildsNow(); n != 2 || idOf(t, bin) != binID {
			t.Errorf("outage: go builds %d (want 2), binary rewritten: %v", n, idOf(t, bin) != binID)
		}
		s.SetOutage(false)

		// 4. Other profiles served: within the freshness window nothing
		// happens; a fetch rebuilds exactly once, and the build after that
		// nothing.
		s.SetGeneration(1)
		build("new profile, fresh", withKeys)
		if n := goBuildsNow(); n != 2 || !bytes.Equal(read(t, pgo), good) {
			t.Errorf("a new profile within the window: go builds %d (want 2), profile changed %v", n, !bytes.Equal(read(t, pgo), good))
		}
		build("new profile", append(withKeys, "PGOFETCH_MAX_AGE=0"))
		if bytes.Equal(read(t, pgo), good) {
			t.Fatalf("new profile: the profile did not change")
		}
		build("new profile again", append(withKeys, "PGOFETCH_MAX_AGE=0"))
		if n := goBuildsNow(); n != 3 {
			t.Errorf("a changed profile: %d go builds, want exactly one more (3): %q", n, goBuilds(t, golog))
		}
		if info := buildInfo(t, bin); !strings.Contains(info, "-pgo="+pgo) {
			t.Errorf("new profile: no -pgo= in the binary:\n%s", info)
		}

		// 5. What the binary is built from, as Go reports it: an embedded
		// file of the web UI rebuilds it, a test file does not.
		css := filepath.Join(src, "internal", "driver", "html", "common.css")
		write(t, css, string(read(t, css))+"\n/* edited */\n")
		build("embedded file", withKeys)
		test := filepath.Join(src, "internal", "driver", "driver_test.go")
		write(t, test, string(read(t, test))+"\n// edited\n")
		build("test file", withKeys)
		if n := goBuildsNow(); n != 4 {
			t.Errorf("an embedded file and a test file edited: %d go builds, want 4: %q", n, goBuilds(t, golog))
		}

		// 6. install(PROGRAMS) of the quick start installs the binary.
		prefix := filepath.Join(work, "prefix")
		must(t, work, withKeys, "cmake", "--install", bld, "--prefix", prefix)
		if info := buildInfo(t, filepath.Join(prefix, "bin", "server")); !strings.Contains(info, "-pgo=") {
			t.Errorf("the installed binary has no -pgo=:\n%s", info)
		}

		// 7. Committed mode, in the same tree: pgofetch gone, no keys. With
		// nothing committed the build goes without PGO, once, and says so;
		// a committed profile (a change of its state, as any edit) rebuilds
		// exactly once with the main package's default.pgo as it is, and a
		// build after that nothing. pgofetch and the API are never asked.
		os.Remove(filepath.Join(pgofetchDir, "pgofetch"))
		committed := filepath.Join(src, "default.pgo")
		offline = userEnv(goDir, "")
		reqs = len(s.Requests())
		out = must(t, work, offline, "cmake", "-DPGOFETCH_MODE=committed", bld)
		if strings.Contains(out, "pgofetch") || strings.Contains(out, "Warning") {
			t.Errorf("committed: configuring spoke of pgofetch or warned:\n%s", out)
		}
		const noCommitted = `^pgofetch: building server without PGO: no profile .*/default\.pgo yet \(commit one there`
		out = build("committed, nothing committed", offline)
		if n := goBuildsNow(); n != 5 || countLines(out, noCommitted) != 1 || strings.Contains(buildInfo(t, bin), "-pgo=") {
			t.Errorf("committed, nothing committed: go builds %d (want 5), want no -pgo= and one line matching %q:\n%s", n, noCommitted, out)
		}
		for i, profile := range [][]byte{read(t, pgo), good} {
			write(t, committed, string(profile))
			out = build("committed profile", offline)
			out += build("committed profile, again", offline)
			if n := goBuildsNow(); n != 6+i {
				t.Errorf("committed profile %d: %d go builds, want %d\n%s", i, n, 6+i, out)
			}
			if info := buildInfo(t, bin); !strings.Contains(info, "-pgo="+committed) {
				t.Errorf("committed profile %d: go version -m has no -pgo=%s:\n%s", i, committed, info)
			}
			if countLines(out, `^pgofetch: `) != 0 || !bytes.Equal(read(t, committed), profile) {
				t.Errorf("committed profile %d: pgofetch spoke, or the profile changed:\n%s", i, out)
			}
		}
		if len(s.Requests()) != reqs {
			t.Errorf("committed mode asked the API")
		}

		noSecrets(t, []string{s.APIKey(), s.AppKey()}, outputs, src, bld)
	})
}

// TestRealProjectMissingPgofetch: pgofetch missing when cmake runs, or
// removed after a good build: a warning, the build goes on (without PGO, or
// with the last profile) and rebuilds nothing more; an error only with
// PGOFETCH_FAIL.
func TestRealProjectMissingPgofetch(t *testing.T) {
	cache := realSource(t)
	grpc := read(t, testenv.RealProfile(t))

	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		goDir, golog := goOnPath(t, work)
		src := filepath.Join(work, "src")
		realProject(t, cache, src)
		_, keys := fakeAPI(t, work, "web-1", "pprof-web", grpc)

		t.Run("at configure time", func(t *testing.T) {
			bld := filepath.Join(work, "build-none")
			env := userEnv(goDir, "", keys...)
			out := must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name)
			if !strings.Contains(out, "CMake Warning") || !strings.Contains(strings.Join(strings.Fields(out), " "), "the pgofetch program was not found: Go builds without PGO") {
				t.Errorf("no warning that pgofetch is missing:\n%s", out)
			}
			before := len(goBuilds(t, golog))
			out = must(t, work, env, "cmake", "--build", bld)
			bin := filepath.Join(bld, "bin", "server")
			if info := buildInfo(t, bin); strings.Contains(info, "-pgo=") {
				t.Errorf("built with PGO without pgofetch:\n%s", info)
			}
			if countLines(out, `^pgofetch: building server without PGO: .*install pgofetch and re-run cmake`) != 1 {
				t.Errorf("no line saying the build is without PGO and what to do:\n%s", out)
			}
			id := idOf(t, bin)
			must(t, work, env, "cmake", "--build", bld)
			if n := len(goBuilds(t, golog)) - before; n != 1 || idOf(t, bin) != id {
				t.Errorf("without pgofetch: %d go builds over two builds, want 1; binary rewritten %v", n, idOf(t, bin) != id)
			}
			out, err := run(t, work, env, "cmake", "-S", src, "-B", filepath.Join(work, "build-none-fail"), "-G", g.name, "-DPGOFETCH_FAIL=ON")
			if err == nil || !strings.Contains(out, "the pgofetch program was not found") {
				t.Errorf("PGOFETCH_FAIL=ON and no pgofetch: configuring did not fail naming it: %v\n%s", err, out)
			}
		})

		t.Run("removed later", func(t *testing.T) {
			bld := filepath.Join(work, "build-removed")
			pgofetch := pgofetchCopy(t, filepath.Join(work, "removed"))
			env := userEnv(goDir, filepath.Dir(pgofetch), keys...)
			must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name)
			must(t, work, env, "cmake", "--build", bld)
			bin := filepath.Join(bld, "bin", "server")
			pgo := filepath.Join(bld, "pgo", "server", "default.pgo")
			if info := buildInfo(t, bin); !strings.Contains(info, "-pgo="+pgo) {
				t.Fatalf("no -pgo= in the first build:\n%s", info)
			}
			good, binID, before := read(t, pgo), idOf(t, bin), len(goBuilds(t, golog))
			os.Remove(pgofetch)
			out := must(t, work, append(env, "PGOFETCH_MAX_AGE=0"), "cmake", "--build", bld)
			if countLines(out, `^pgofetch: `+regexp.QuoteMeta(pgofetch)+` is missing: .* not refreshed`) != 1 {
				t.Errorf("no line saying pgofetch is missing:\n%s", out)
			}
			if n := len(goBuilds(t, golog)) - before; n != 0 || idOf(t, bin) != binID || !bytes.Equal(read(t, pgo), good) {
				t.Errorf("pgofetch removed: %d go builds (want 0), binary rewritten %v, profile changed %v",
					n, idOf(t, bin) != binID, !bytes.Equal(read(t, pgo), good))
			}
			// Asked to fail: configuring names the missing program; once it is
			// back and configured, its removal fails the build.
			out, err := run(t, work, env, "cmake", "-DPGOFETCH_FAIL=ON", bld)
			if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "PGOFETCH_EXECUTABLE is "+pgofetch+", which is not a file") {
				t.Errorf("PGOFETCH_FAIL=ON, pgofetch removed: configuring did not fail naming it: %v\n%s", err, out)
			}
			pgofetchCopy(t, filepath.Join(work, "removed"))
			must(t, work, env, "cmake", "-DPGOFETCH_FAIL=ON", bld)
			os.Remove(pgofetch)
			out, err = run(t, work, env, "cmake", "--build", bld)
			if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), pgofetch+" is missing") {
				t.Errorf("PGOFETCH_FAIL=ON, pgofetch removed after configuring: the build did not fail naming it: %v\n%s", err, out)
			}
		})
	})
}

// TestRealProjectBadSettings: a misspelt keyword after QUERY and a bad
// duration in the quick start stop configuring, naming the word and the
// value, before any build file is written.
func TestRealProjectBadSettings(t *testing.T) {
	pgofetch := testenv.Pgofetch(t)
	cache := realSource(t)
	const query = `QUERY "service:pprof-web env:prod")`
	cases := []struct{ name, replace, want string }{
		{"misspelt keyword", `QUERY "service:pprof-web env:prod" TIMOUT 10s)`, `pgofetch_profile(server_pgo): unknown keyword TIMOUT`},
		{"bad duration", `QUERY "service:pprof-web env:prod" TIMEOUT 10)`, `pgofetch_profile(server_pgo): TIMEOUT: invalid value "10" for flag -timeout`},
		{"bad freshness", `QUERY "service:pprof-web env:prod" MAX_AGE 1d)`, `pgofetch_profile(server_pgo): MAX_AGE: invalid value "1d" for flag -max-age`},
	}
	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		goDir, _ := goOnPath(t, work)
		env := userEnv(goDir, filepath.Dir(pgofetch))
		for i, c := range cases {
			src := filepath.Join(work, "src", c.name)
			realProject(t, cache, src)
			lists := filepath.Join(src, "CMakeLists.txt")
			text := string(read(t, lists))
			if !strings.Contains(text, query) {
				t.Fatalf("the quick start has no %q:\n%s", query, text)
			}
			write(t, lists, strings.Replace(text, query, c.replace, 1))
			bld := filepath.Join(work, "build", string(rune('a'+i)))
			out, err := run(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name)
			if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), c.want) {
				t.Errorf("%s: configuring did not stop with %q: %v\n%s", c.name, c.want, err, out)
			}
			for _, f := range []string{"build.ninja", "Makefile"} {
				if _, err := os.Stat(filepath.Join(bld, f)); err == nil {
					t.Errorf("%s: %s was written", c.name, f)
				}
			}
		}
	})
}

// TestGoInputsAndCross: what Go reports as the binary's inputs rebuilds it
// (assembly, cgo C and header files, go.work), what it does not (a test
// file, a README) does not; and a cross build gets GOOS, GOARCH,
// CGO_ENABLED and GOFLAGS, with PGO.
func TestGoInputsAndCross(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := testenv.RealProfile(t)
	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		pgofetch := pgofetchCopy(t, work)
		goDir, golog := goOnPath(t, work)
		src := filepath.Join(work, "src")
		testenv.CopyTree(t, testenv.Example(t), src)
		write(t, filepath.Join(src, "go.work"), "go 1.21\n\nuse .\n")
		write(t, filepath.Join(src, "internal", "work", "nop_amd64.s"), "// no code: an input all the same\n")
		write(t, filepath.Join(src, "cmd", "cgotool", "main.go"), `package main

// #include "helper.h"
import "C"

import "fmt"

func main() { fmt.Println(C.answer()) }
`)
		write(t, filepath.Join(src, "cmd", "cgotool", "helper.h"), "int answer(void);\n")
		write(t, filepath.Join(src, "cmd", "cgotool", "helper.c"), "#include \"helper.h\"\nint answer(void) { return 42; }\n")
		write(t, filepath.Join(src, "CMakeLists.txt"), `cmake_minimum_required(VERSION 3.20)
project(example LANGUAGES NONE)
include(PGOFetch)
pgofetch_profile(p OUTPUT pgo/default.pgo IN "${PGO_IN}")
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE p)
pgofetch_go_executable(cgotool PACKAGE ./cmd/cgotool CGO_ENABLED 1)
pgofetch_go_executable(batch_arm64 PACKAGE ./cmd/batch PROFILE p
  GOOS linux GOARCH arm64 CGO_ENABLED 0 GOFLAGS -trimpath ENV GOARM64=v8.1)
`)
		env := userEnv(goDir, "")
		bld := filepath.Join(work, "build")
		must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch, "-DPGO_IN="+grpc)
		out := must(t, work, env, "cmake", "--build", bld)
		if n := len(goBuilds(t, golog)); n != 3 {
			t.Fatalf("first build: %d go builds, want 3:\n%s", n, out)
		}
		if got := strings.TrimSpace(must(t, work, env, filepath.Join(bld, "bin", "cgotool"))); got != "42" {
			t.Errorf("cgotool printed %q", got)
		}
		info := buildInfo(t, filepath.Join(bld, "bin", "batch_arm64"))
		// -trimpath records the profile's base name only.
		for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-trimpath=true", "GOARM64=v8.1",
			"-pgo=default.pgo"} {
			if !strings.Contains(info, want) {
				t.Errorf("the cross build lacks %s:\n%s", want, info)
			}
		}

		// Each edit, and the go builds it must cause (by package).
		edits := []struct {
			file string
			want []string
		}{
			{filepath.Join("internal", "work", "nop_amd64.s"), []string{"./cmd/batch"}}, // amd64 only: not the arm64 build's
			{"cmd/cgotool/helper.h", []string{"./cmd/cgotool"}},
			{"cmd/cgotool/helper.c", []string{"./cmd/cgotool"}},
			{"go.work", []string{"./cmd/batch", "./cmd/cgotool", "./cmd/batch"}},
			{filepath.Join("internal", "work", "work_test.go"), nil},
			{"README.md", nil},
		}
		for _, e := range edits {
			before := len(goBuilds(t, golog))
			path := filepath.Join(src, e.file)
			write(t, path, string(read(t, path))+"\n// edited\n")
			out := must(t, work, env, "cmake", "--build", bld)
			got := after(goBuilds(t, golog), before)
			var pkgs []string
			for _, l := range got {
				f := strings.Fields(l)
				pkgs = append(pkgs, f[len(f)-1])
			}
			if strings.Join(pkgs, " ") != strings.Join(e.want, " ") &&
				!(len(pkgs) == len(e.want) && sameSet(pkgs, e.want)) {
				t.Errorf("editing %s: go builds of %q, want %q\n%s", e.file, pkgs, e.want, out)
			}
		}
	})
}

// sameSet: a and b hold the same words, in any order.
func sameSet(a, b []string) bool {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSubdirectoryOlderPolicies: a project that asks for an older CMake
// (3.16) and calls the commands in a subdirectory gets no policy warning
// for the depfile, and an edit there rebuilds once.
func TestSubdirectoryOlderPolicies(t *testing.T) {
	pgofetch := testenv.Pgofetch(t)
	eachGenerator(t, func(t *testing.T, g generator) {
		work := t.TempDir()
		src := filepath.Join(work, "src")
		testenv.CopyTree(t, testenv.Example(t), filepath.Join(src, "sub"))
		write(t, filepath.Join(src, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.16)\n"+
			"project(old LANGUAGES NONE)\ninclude(PGOFetch)\nadd_subdirectory(sub)\n")
		write(t, filepath.Join(src, "sub", "CMakeLists.txt"), "pgofetch_profile(p OUTPUT pgo/default.pgo IN \""+
			testenv.RealProfile(t)+"\")\npgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE p)\n")
		goDir, golog := goOnPath(t, work)
		env := userEnv(goDir, "")
		bld := filepath.Join(work, "build")
		out := must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch)
		if strings.Contains(out, "CMP0116") || strings.Contains(out, "Warning") {
			t.Errorf("configuring warned:\n%s", out)
		}
		must(t, work, env, "cmake", "--build", bld)
		workGo := filepath.Join(src, "sub", "internal", "work", "work.go")
		write(t, workGo, string(read(t, workGo))+"\n// edited\n")
		must(t, work, env, "cmake", "--build", bld)
		must(t, work, env, "cmake", "--build", bld)
		if n := len(goBuilds(t, golog)); n != 2 {
			t.Errorf("%d go builds, want 2 (the first build, the edit)", n)
		}
	})
}
