package cmakemodule

import (
	"io/fs"
	"path/filepath"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// TestFetchContentInstallsNothing: a project that pulls pgofetch in with
// FetchContent runs it at build time but must not ship it, so its
// `cmake --install` puts nothing of pgofetch's into the prefix (and, as
// nothing was built here, an install rule of pgofetch's would fail it).
func TestFetchContentInstallsNothing(t *testing.T) {
	requireCMake(t)
	work := t.TempDir()
	dir := filepath.Join(work, "consumer")
	write(t, filepath.Join(dir, "CMakeLists.txt"), "cmake_minimum_required(VERSION 3.20)\n"+
		"project(consumer LANGUAGES NONE)\n"+
		"include(FetchContent)\n"+
		"set(BUILD_TESTING OFF)\n"+
		"FetchContent_Declare(pgofetch SOURCE_DIR \""+testenv.RepoRoot(t)+"\")\n"+
		"FetchContent_MakeAvailable(pgofetch)\n")
	env := baseEnv()
	bld := filepath.Join(work, "build")
	prefix := filepath.Join(work, "prefix")
	must(t, dir, env, "cmake", "-S", dir, "-B", bld)
	must(t, dir, env, "cmake", "--install", bld, "--prefix", prefix)
	filepath.WalkDir(prefix, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("installed by a FetchContent user: %s", path)
		}
		return nil
	})
}
