package cmakemodule

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// availableGenerators are the generators whose build tool is installed.
func availableGenerators(t *testing.T) []generator {
	t.Helper()
	requireCMake(t)
	var out []generator
	for _, g := range generators {
		if _, err := exec.LookPath(g.tool); err == nil {
			out = append(out, g)
		} else {
			t.Logf("generator %s: %s is not installed, not tested", g.name, g.tool)
		}
	}
	if len(out) == 0 {
		t.Fatal("neither ninja nor make is installed")
	}
	return out
}

// consumer writes a copy of the example whose CMakeLists.txt is head (how
// it gets the module) followed by a profile from an -in source for cmd/batch.
func consumer(t *testing.T, dir, head, in string) {
	t.Helper()
	testenv.CopyTree(t, testenv.Example(t), dir)
	os.Remove(filepath.Join(dir, "cmd", "batch", "default.pgo"))
	write(t, filepath.Join(dir, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.20)\n"+
		"project(consumer LANGUAGES NONE)\n"+head+"\n"+
		"pgofetch_profile(batch_pgo OUTPUT pgo/default.pgo IN \""+in+"\")\n"+
		"pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo)\n")
}

// TestInstalledPackage: `cmake --install` of this project installs pgofetch
// and the PGOFetch config package; a separate project finds it with
// find_package (after the prefix moved: the package is relocatable) and
// builds the example with it, with each generator.
func TestInstalledPackage(t *testing.T) {
	gens := availableGenerators(t)
	grpc := testenv.RealProfile(t)
	work := t.TempDir()
	env := baseEnv()
	bld := filepath.Join(work, "pgofetch-build")
	staged := filepath.Join(work, "staged")
	must(t, work, env, "cmake", "-S", testenv.RepoRoot(t), "-B", bld, "-G", gens[0].name,
		"-DBUILD_TESTING=OFF", "-DCMAKE_INSTALL_PREFIX="+staged)
	must(t, work, env, "cmake", "--build", bld, "--parallel", "2")
	must(t, work, env, "cmake", "--install", bld)
	for _, f := range []string{"bin/pgofetch", "share/cmake/PGOFetch/PGOFetchConfig.cmake",
		"share/cmake/PGOFetch/PGOFetchConfigVersion.cmake", "share/cmake/PGOFetch/PGOFetch.cmake",
		"share/cmake/PGOFetch/PGOFetch/go-build.cmake"} {
		if _, err := os.Stat(filepath.Join(staged, f)); err != nil {
			t.Errorf("not installed: %s", f)
		}
	}
	prefix := filepath.Join(work, "moved", "prefix")
	os.MkdirAll(filepath.Dir(prefix), 0o755)
	if err := os.Rename(staged, prefix); err != nil {
		t.Fatal(err)
	}
	installed := filepath.Join(prefix, "bin", "pgofetch")
	if out := must(t, work, env, installed, "-version"); !strings.HasPrefix(out, "pgofetch 0.1.0 ") {
		t.Errorf("the installed pgofetch -version: %q", out)
	}

	for _, g := range gens {
		t.Run(strings.ReplaceAll(g.name, " ", ""), func(t *testing.T) {
			dir := filepath.Join(work, "consumer-"+g.tool)
			consumer(t, dir, "find_package(PGOFetch 0.1 REQUIRED)\n"+
				`message(STATUS "PGOFetch ${PGOFetch_VERSION} at ${PGOFetch_EXECUTABLE}")`, grpc)
			cb := filepath.Join(dir, "build")
			out := must(t, dir, env, "cmake", "-S", dir, "-B", cb, "-G", g.name, "-DCMAKE_PREFIX_PATH="+prefix)
			if !strings.Contains(out, "PGOFetch 0.1.0 at "+installed) {
				t.Errorf("find_package did not find the installed package at %s:\n%s", prefix, out)
			}
			if cache := string(read(t, filepath.Join(cb, "CMakeCache.txt"))); strings.Contains(cache, "PGOFETCH_EXECUTABLE:") {
				t.Errorf("the module searched for pgofetch instead of using the package's:\n%s", testenv.GrepLines(cache, "PGOFETCH"))
			}
			out = must(t, dir, env, "cmake", "--build", cb)
			if info := buildInfo(t, filepath.Join(cb, "bin", "batch")); !strings.Contains(info, "-pgo="+filepath.Join(cb, "pgo", "default.pgo")) {
				t.Errorf("no -pgo= in the binary:\n%s\n%s", info, out)
			}
			// The installed pgofetch is what ran.
			var buildFile []byte
			if g.tool == "ninja" {
				buildFile = read(t, filepath.Join(cb, "build.ninja"))
			} else {
				buildFile = read(t, filepath.Join(cb, "CMakeFiles", "batch_pgo.dir", "build.make"))
			}
			if !strings.Contains(string(buildFile), installed) {
				t.Errorf("the profile command does not run %s", installed)
			}
		})
	}

	t.Run("version", func(t *testing.T) {
		dir := filepath.Join(work, "too-new")
		consumer(t, dir, "find_package(PGOFetch 9.0 REQUIRED)", grpc)
		out, err := run(t, dir, env, "cmake", "-S", dir, "-B", filepath.Join(dir, "build"),
			"-G", gens[0].name, "-DCMAKE_PREFIX_PATH="+prefix)
		if err == nil || !strings.Contains(out, "version") {
			t.Errorf("find_package(PGOFetch 9.0) was not refused for its version: %v\n%s", err, out)
		}
	})
}

// TestFetchContent: the README's FetchContent block, verbatim, with
// GIT_REPOSITORY a clone of this repository: the pinned commit exists, and
// the project builds pgofetch from source at it and runs it through its
// target, without any install or PGOFETCH_EXECUTABLE. Its settings are
// checked by pgofetch once built: a bad duration stops the first build
// (there was no pgofetch to run when cmake first ran) and, from then on,
// configuring.
func TestFetchContent(t *testing.T) {
	gens := availableGenerators(t)
	g := gens[len(gens)-1] // the other generator than TestInstalledPackage's build
	grpc := testenv.RealProfile(t)
	readme := string(read(t, filepath.Join(moduleDir(t), "README.md")))
	m := regexp.MustCompile("(?s)```cmake\n(include\\(FetchContent\\)\n.*?)```").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("cmake-module/README.md has no cmake block starting with include(FetchContent)")
	}
	block := m[1]
	pin := regexp.MustCompile(`GIT_TAG\s+([0-9a-f]{40})\b`).FindStringSubmatch(block)
	if pin == nil || !strings.Contains(block, `GIT_REPOSITORY "${PGOFETCH_GIT_REPOSITORY}"`) {
		t.Fatalf("the FetchContent block does not pin a full commit SHA from ${PGOFETCH_GIT_REPOSITORY}:\n%s", block)
	}
	work := t.TempDir()
	env := baseEnv()
	root := testenv.RepoRoot(t)
	if _, err := run(t, root, env, "git", "cat-file", "-e", pin[1]+"^{commit}"); err != nil {
		out, _ := run(t, root, env, "git", "rev-parse", "--is-shallow-repository")
		if strings.TrimSpace(out) != "true" {
			t.Fatalf("the README pins %s, which is not a commit of this repository", pin[1])
		}
		// A shallow clone lacks the pin: the block is still tried as
		// written, pinned to the commit the clone has.
		head := strings.TrimSpace(must(t, root, env, "git", "rev-parse", "HEAD"))
		t.Logf("a shallow clone lacks the pinned commit %s: trying the block at HEAD %s", pin[1], head)
		block = strings.Replace(block, pin[1], head, 1)
		pin[1] = head
	}
	clone := filepath.Join(work, "pgofetch.git")
	must(t, work, env, "git", "clone", "--quiet", "--bare", root, clone)

	dir := filepath.Join(work, "consumer")
	consumer(t, dir, block, grpc)
	lists := filepath.Join(dir, "CMakeLists.txt")
	good := string(read(t, lists))
	write(t, lists, strings.Replace(good, "IN \"", "TIMEOUT 10 IN \"", 1))
	cb := filepath.Join(work, "build")
	must(t, dir, env, "cmake", "-S", dir, "-B", cb, "-G", g.name, "-DPGOFETCH_GIT_REPOSITORY="+clone)
	if cache := string(read(t, filepath.Join(cb, "CMakeCache.txt"))); strings.Contains(cache, "PGOFETCH_EXECUTABLE:") {
		t.Errorf("the module searched for pgofetch instead of using the pgofetch target:\n%s", testenv.GrepLines(cache, "PGOFETCH"))
	}
	if head := strings.TrimSpace(must(t, work, env, "git", "-C", filepath.Join(cb, "_deps", "pgofetch-src"), "rev-parse", "HEAD")); head != pin[1] {
		t.Errorf("FetchContent checked out %s, not the pin %s", head, pin[1])
	}
	out, err := run(t, dir, env, "cmake", "--build", cb, "--parallel", "2")
	if err == nil || !strings.Contains(out, `invalid value "10" for flag -timeout`) {
		t.Errorf("TIMEOUT 10: the first build did not stop with pgofetch's message: %v\n%s", err, out)
	}
	built := filepath.Join(cb, "_deps", "pgofetch-build", "core", "pgofetch")
	if _, err := os.Stat(built); err != nil {
		t.Fatalf("pgofetch was not built as part of the project: %v\n%s", err, out)
	}
	out, err = run(t, dir, env, "cmake", cb)
	if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "), `pgofetch_profile(batch_pgo): TIMEOUT: invalid value "10" for flag -timeout`) {
		t.Errorf("TIMEOUT 10, pgofetch built: configuring did not stop naming it: %v\n%s", err, out)
	}

	write(t, lists, good)
	must(t, dir, env, "cmake", cb)
	out = must(t, dir, env, "cmake", "--build", cb, "--parallel", "2")
	if info := buildInfo(t, filepath.Join(cb, "bin", "batch")); !strings.Contains(info, "-pgo="+filepath.Join(cb, "pgo", "default.pgo")) {
		t.Errorf("no -pgo= in the binary:\n%s\n%s", info, out)
	}
	if _, err := os.Stat(filepath.Join(cb, "_deps", "pgofetch-build", "core", "test_cli")); err == nil {
		t.Errorf("pgofetch's unit tests were built in the consumer's build")
	}
}
