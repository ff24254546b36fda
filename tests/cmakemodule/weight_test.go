package cmakemodule

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// TestWeights: WEIGHT in the IN and QUERY lists and NORMALIZE reach
// pgofetch as its -weight and -normalize, in the order that gives each
// source its weight: each profile the build writes is byte for byte what
// pgofetch writes by hand from the same sources with those flags, and the
// weighted ones differ from the unweighted merge. One configured tree per
// generator, profile targets only.
func TestWeights(t *testing.T) {
	testenv.Pgofetch(t)
	grpc := read(t, testenv.RealProfile(t))
	eachGenerator(t, func(t *testing.T, g generator) {
		work, src, bld, pgofetch := example(t, `include(PGOFetch)
pgofetch_profile(plain OUTPUT plain/default.pgo IN "${A}" "${B}")
pgofetch_profile(weighted OUTPUT weighted/default.pgo IN "${A}" WEIGHT 0.25 "${B}")
pgofetch_profile(normalized OUTPUT normalized/default.pgo NORMALIZE IN WEIGHT 3 "${A}" WEIGHT 1 "${B}")
pgofetch_profile(mixed OUTPUT mixed/default.pgo
  QUERY WEIGHT 0.5 "service:example-server env:prod" IN WEIGHT 2 "${B}")
`)
		a, b := filepath.Join(work, "a.pprof"), filepath.Join(work, "b.pprof")
		write(t, a, string(grpc))
		write(t, b, string(halved(t, testenv.RealProfile(t))))
		_, keys := fakeAPI(t, work, "server-1", "example-server", grpc)
		env := baseEnv(keys...)
		must(t, work, env, "cmake", "-S", src, "-B", bld, "-G", g.name,
			"-DCMAKE_MODULE_PATH="+moduleDir(t), "-DPGOFETCH_EXECUTABLE="+pgofetch,
			"-DA="+a, "-DB="+b)
		out := must(t, work, env, "cmake", "--build", bld)

		byHand := map[string][]string{
			"plain":      {"-in", a, "-in", b},
			"weighted":   {"-in", a, "-weight", "0.25", "-in", b},
			"normalized": {"-normalize", "-weight", "3", "-in", a, "-weight", "1", "-in", b},
			"mixed":      {"-weight", "2", "-in", b, "-weight", "0.5", "service:example-server env:prod"},
		}
		got := map[string][]byte{}
		if err := os.MkdirAll(filepath.Join(work, "by-hand"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, args := range byHand {
			got[name] = read(t, filepath.Join(bld, name, "default.pgo"))
			want := filepath.Join(work, "by-hand", name+".pgo")
			must(t, work, env, pgofetch, append(append([]string{"-fail"}, args...), want)...)
			if !bytes.Equal(got[name], read(t, want)) {
				t.Errorf("%s: the profile the build wrote differs from pgofetch %q by hand\n%s", name, args, out)
			}
		}
		for _, name := range []string{"weighted", "normalized"} {
			if bytes.Equal(got[name], got["plain"]) {
				t.Errorf("%s: the profile equals the unweighted merge", name)
			}
		}
	})
}
