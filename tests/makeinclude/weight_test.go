package makeinclude

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// profileSkewed is profile A with every third sample seven times hotter:
// another shape, so that how two profiles are weighed shows in the merge.
func profileSkewed(t *testing.T) []byte {
	t.Helper()
	return profileScaled(t, func(i int) int64 {
		if i%3 == 0 {
			return 7
		}
		return 1
	})
}

// fzfWithProfiles is newFzfWired with prod.pprof (profile A) and
// bench.pprof (skewed) in fzf's directory, the fake API, and the pgofetch
// under test on PATH.
func fzfWithProfiles(t *testing.T, wiring string) *work {
	t.Helper()
	w := newFzfWired(t, wiring)
	w.withServer()
	w.writeFile("prod.pprof", string(profileA(t)))
	w.writeFile("bench.pprof", string(profileSkewed(t)))
	w.env = append(w.env, "PATH="+pathWith(t))
	return w
}

// pgofetch runs the binary under test by hand in the work directory, with
// the environment make gets, and returns DEST's bytes.
func (w *work) pgofetch(dest string, args ...string) []byte {
	w.t.Helper()
	cmd := exec.Command(testenv.Pgofetch(w.t), append(append([]string{"-fail"}, args...), dest)...)
	cmd.Dir = w.dir
	cmd.Env = append(cleanEnv(), w.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("pgofetch %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	data, err := os.ReadFile(filepath.Join(w.dir, dest))
	if err != nil {
		w.t.Fatal(err)
	}
	return data
}

func (w *work) read(rel string) []byte {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, rel))
	if err != nil {
		w.t.Fatal(err)
	}
	return data
}

// fzfWeighted declares fzf's profile from a query and two weighed files.
const fzfWeighted = "include pgo.mk\n" +
	"$(eval $(call pgo_profile,.,service:fzf env:prod,target/$(BINARY),-weight=0.25 prod.pprof -weight=3 bench.pprof))\n"

// -weight=W words in SOURCES and PGO_WEIGHT give fzf's default.pgo exactly
// the profile pgofetch writes by hand with the same -weight flags, and
// one that differs from the unweighted merge.
func TestFzfWeights(t *testing.T) {
	w := fzfWithProfiles(t, fzfWeighted)

	// No keys: the files alone, each with its weight; the comments (which
	// name each source and weight) included.
	out := w.mustMake("pgo")
	if !strings.Contains(out, "-weight '0.25' -in 'prod.pprof' -weight '3' -in 'bench.pprof' -- 'default.pgo'") {
		t.Errorf("make did not pass the SOURCES' weights to pgofetch as -weight flags before their -in sources")
	}
	got := w.read("default.pgo")
	byHand := w.pgofetch("hand.pgo", "-weight", "0.25", "-in", "prod.pprof", "-weight", "3", "-in", "bench.pprof")
	if !bytes.Equal(got, byHand) {
		t.Errorf("default.pgo differs from what pgofetch -weight 0.25 -in prod.pprof -weight 3 -in bench.pprof writes")
	}
	if bytes.Equal(got, w.pgofetch("plain.pgo", "-in", "prod.pprof", "-in", "bench.pprof")) {
		t.Errorf("default.pgo is the unweighted merge: the weights made no difference")
	}
	w.env = append(w.env, "DD_API_KEY="+apiKey, "DD_APP_KEY="+appKey)

	// Keys: the query too, with PGO_WEIGHT, every profile normalised first.
	// (Without comments, which record the fetch's time.)
	out = w.mustMake("pgo", "CI=true", "PGO_WEIGHT=0.5", "PGO_NORMALIZE=1", "PGO_FLAGS=-comment=false")
	if !strings.Contains(out, "-normalize -weight '0.25' -in 'prod.pprof' -weight '3' -in 'bench.pprof' -weight '0.5' -comment=false -- 'service:fzf env:prod' 'default.pgo'") {
		t.Errorf("make did not give the query PGO_WEIGHT after the -in sources")
	}
	got = w.read("default.pgo")
	api := "-api-url=" + w.srv.URL()
	args := []string{api, "-comment=false", "-normalize", "-weight", "0.25", "-in", "prod.pprof", "-weight", "3", "-in", "bench.pprof"}
	if !bytes.Equal(got, w.pgofetch("hand.pgo", append(args, "-weight", "0.5", "service:fzf env:prod")...)) {
		t.Errorf("default.pgo differs from what pgofetch -normalize -weight ... -weight 0.5 QUERY writes")
	}
	if bytes.Equal(got, w.pgofetch("plain.pgo", append(args, "-weight", "1", "service:fzf env:prod")...)) {
		t.Errorf("PGO_WEIGHT=0.5 made no difference to the query's weight")
	}

	// A bad weight stops make, naming the setting.
	for _, c := range []struct{ arg, want string }{
		{"PGO_WEIGHT=lots", "pgo.mk: error: bad setting PGO_WEIGHT for default.pgo"},
		{"PGO_IN=-weight=-1 prod.pprof", "pgo.mk: error: bad setting -weight= in PGO_IN or SOURCES for default.pgo"},
		{"PGO_IN=prod.pprof -weight=2", "pgo.mk: error: PGO_IN ends in -weight=2: a -weight= weighs the sources after it, and none follows"},
	} {
		out, ok := w.make("pgo", "CI=true", c.arg)
		if ok || !strings.Contains(out, c.want) {
			t.Errorf("make pgo %s: want a failure saying %q", c.arg, c.want)
		}
	}
}
