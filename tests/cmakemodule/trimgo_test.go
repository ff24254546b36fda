package cmakemodule

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// TestTrimJudgedByTheBuildsGo: pgofetch's -trim guard asks the go the
// build uses (PGOFETCH_GO_EXECUTABLE), not the go on PATH. A go that says
// it is newer than the Go versions the trim is proven for gets the full
// profile, byte for byte what -trim=false writes, and one line saying why;
// the same tree configured with the real go (also the one on PATH) gets the
// trimmed profile.
func TestTrimJudgedByTheBuildsGo(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := testenv.RealProfile(t)
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found: %v", err)
	}
	eachGenerator(t, func(t *testing.T, g generator) {
		work, src, bld, pgofetch := example(t, `include(PGOFetch)
pgofetch_profile(p OUTPUT pgo/default.pgo IN "${PGO_IN}" MAX_AGE 0)
`)
		newer := filepath.Join(work, "newer-go", "go")
		write(t, newer, testenv.FakeGoScript("go1.99.0"))
		if err := os.Chmod(newer, 0o755); err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(work, "full.pgo")
		must(t, work, baseEnv(), pgofetch, "-fail", "-trim=false", "-in", grpc, full)
		configure := func(gobin string) {
			must(t, work, baseEnv(), "cmake", "-S", src, "-B", bld, "-G", g.name,
				"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch,
				"-DPGOFETCH_GO_EXECUTABLE="+gobin, "-DPGO_IN="+grpc)
		}
		pgo := filepath.Join(bld, "pgo", "default.pgo")

		configure(newer)
		out := must(t, work, baseEnv(), "cmake", "--build", bld)
		if !bytes.Equal(read(t, pgo), read(t, full)) {
			t.Errorf("a go newer than the proven ones: the profile is not the full one\n%s", out)
		}
		if n := countLines(out, `writing the full profile: the go that builds is newer.*go1\.99\.0`); n != 1 {
			t.Errorf("want one line saying the full profile is written for go1.99.0, got %d:\n%s", n, out)
		}

		configure(realGo)
		out = must(t, work, baseEnv(), "cmake", "--build", bld)
		if bytes.Equal(read(t, pgo), read(t, full)) || strings.Contains(out, "writing the full profile") {
			t.Errorf("the real go: the profile was not trimmed\n%s", out)
		}
	})
}
