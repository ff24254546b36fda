package cmakemodule

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/internal/testenv"
)

// TestNoInline: NOINLINE_FUNC and NOINLINE_FILE reach pgofetch, as written
// (a regular expression with the characters a shell or make would take),
// with each generator: the profile records each expression in its
// comments, as pgofetch does for the -noinline-func list.
func TestNoInline(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := testenv.RealProfile(t)
	eachGenerator(t, func(t *testing.T, g generator) {
		work, src, bld, pgofetch := example(t, `include(PGOFetch)
pgofetch_profile(batch_pgo OUTPUT pgo/default.pgo IN "${PGO_IN}"
  NOINLINE_FUNC "example\\.com/pgofetch-example/internal/work\\.(parseRecord|checksum)" "main\\.[a-z]+ *"
  NOINLINE_FILE pgo/noinline.txt)
`)
		write(t, filepath.Join(src, "pgo", "noinline.txt"), "# hot, but not to be inlined\ngoogle\\.golang\\.org/grpc\\..*\n")
		env := baseEnv()
		must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch, "-DPGO_IN="+grpc)
		out := must(t, work, env, "cmake", "--build", bld, "--target", "batch_pgo")
		p, err := profile.Parse(bytes.NewReader(read(t, filepath.Join(bld, "pgo", "default.pgo"))))
		if err != nil {
			t.Fatalf("the profile: %v\n%s", err, out)
		}
		comments := strings.Join(p.Comments, "\n")
		for _, re := range []string{`example\.com/pgofetch-example/internal/work\.(parseRecord|checksum)`,
			`main\.[a-z]+ *`, `google\.golang\.org/grpc\..*`} {
			if !strings.Contains(comments, `pgofetch: no-inline regexp "`+re+`"`) {
				t.Errorf("the profile's comments lack the no-inline regexp %q:\n%s\n%s", re, comments, out)
			}
		}
	})
}
