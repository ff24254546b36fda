package cmakemodule

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestFetchContent: a project that adds this repository with FetchContent
// builds pgofetch from source and the module runs it through its target,
// without any install or PGOFETCH_EXECUTABLE.
func TestFetchContent(t *testing.T) {
	gens := availableGenerators(t)
	g := gens[len(gens)-1] // the other generator than TestInstalledPackage's build
	grpc := testenv.RealProfile(t)
	work := t.TempDir()
	dir := filepath.Join(work, "consumer")
	consumer(t, dir, "include(FetchContent)\n"+
		"set(BUILD_TESTING OFF)\n"+
		"FetchContent_Declare(pgofetch SOURCE_DIR \""+testenv.RepoRoot(t)+"\")\n"+
		"FetchContent_MakeAvailable(pgofetch)", grpc)
	cb := filepath.Join(work, "build")
	env := baseEnv()
	must(t, dir, env, "cmake", "-S", dir, "-B", cb, "-G", g.name)
	if cache := string(read(t, filepath.Join(cb, "CMakeCache.txt"))); strings.Contains(cache, "PGOFETCH_EXECUTABLE:") {
		t.Errorf("the module searched for pgofetch instead of using the pgofetch target:\n%s", testenv.GrepLines(cache, "PGOFETCH"))
	}
	out := must(t, dir, env, "cmake", "--build", cb, "--parallel", "2")
	built := filepath.Join(cb, "_deps", "pgofetch-build", "core", "pgofetch")
	if _, err := os.Stat(built); err != nil {
		t.Fatalf("pgofetch was not built as part of the project: %v\n%s", err, out)
	}
	if info := buildInfo(t, filepath.Join(cb, "bin", "batch")); !strings.Contains(info, "-pgo="+filepath.Join(cb, "pgo", "default.pgo")) {
		t.Errorf("no -pgo= in the binary:\n%s\n%s", info, out)
	}
	if _, err := os.Stat(filepath.Join(cb, "_deps", "pgofetch-build", "core", "test_cli")); err == nil {
		t.Errorf("BUILD_TESTING=OFF still built pgofetch's unit tests")
	}
}
