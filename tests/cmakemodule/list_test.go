package cmakemodule

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// TestList: LIST pgofetch.list LIST_PACKAGE cmd/batch runs pgofetch
// refresh for that package alone: its default.pgo beside the list is what
// pgofetch writes from the line's arguments by hand, the other package's is
// not written, and the binary is built with it. The list is a configure
// dependency: an edit of the line re-runs cmake and refreshes the profile
// with it; a list without the package stops the build, naming it.
func TestList(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := testenv.RealProfile(t)
	// The sources, named alike for both generators: the same profile bytes,
	// so the second PGO build of the example comes from Go's cache.
	shared := t.TempDir()
	a, b := filepath.Join(shared, "a.pprof"), filepath.Join(shared, "b.pprof")
	write(t, a, string(read(t, grpc)))
	write(t, b, string(halved(t, grpc)))
	eachGenerator(t, func(t *testing.T, g generator) {
		work, src, bld, pgofetch := example(t, `include(PGOFetch)
pgofetch_profile(batch_pgo LIST pgofetch.list LIST_PACKAGE ./cmd/batch MAX_AGE 0)
pgofetch_go_executable(batch PACKAGE ./cmd/batch PROFILE batch_pgo)
`)
		list := filepath.Join(src, "pgofetch.list")
		writeList := func(weight string) {
			write(t, list, "# the main packages\n\ncmd/batch   -in "+a+" -weight "+weight+" -in "+b+
				"\n  cmd/server  -in '"+a+"'\n")
		}
		byHand := func(weight string) []byte {
			dest := filepath.Join(work, "by-hand", weight, "default.pgo")
			os.MkdirAll(filepath.Dir(dest), 0o755)
			must(t, work, baseEnv(), pgofetch, "-fail", "-in", a, "-weight", weight, "-in", b, dest)
			return read(t, dest)
		}
		pgo := filepath.Join(src, "cmd", "batch", "default.pgo")
		env := baseEnv()

		writeList("0.5")
		must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch)
		out := must(t, work, env, "cmake", "--build", bld)
		if !bytes.Equal(read(t, pgo), byHand("0.5")) {
			t.Errorf("cmd/batch/default.pgo is not what pgofetch writes from the list's line\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(src, "cmd", "server", "default.pgo")); err == nil {
			t.Errorf("the other package of the list was refreshed too\n%s", out)
		}
		if info := buildInfo(t, filepath.Join(bld, "bin", "batch")); !strings.Contains(info, "-pgo="+pgo) {
			t.Errorf("go version -m has no -pgo=%s:\n%s", pgo, info)
		}

		// The profile target alone from here: what it writes is the test.
		writeList("3")
		out = must(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo")
		if !strings.Contains(out, "Configuring done") {
			t.Errorf("an edited list did not re-run cmake:\n%s", out)
		}
		if !bytes.Equal(read(t, pgo), byHand("3")) {
			t.Errorf("after the list's edit, cmd/batch/default.pgo is not what its new line gives\n%s", out)
		}

		write(t, list, "cmd/server -in "+a+"\n")
		out, err := run(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo")
		if err == nil || !strings.Contains(strings.Join(strings.Fields(out), " "),
			"pgofetch_profile(batch_pgo): LIST_PACKAGE ./cmd/batch is not in "+list+" (its packages: cmd/server)") {
			t.Errorf("a list without the package: want the build to stop naming it: %v\n%s", err, out)
		}
	})
}
