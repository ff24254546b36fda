package makeinclude

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// inSource writes profile A beside the work directory and returns it.
func inSource(w *work) string {
	w.t.Helper()
	p := filepath.Join(filepath.Dir(w.dir), "a.pprof")
	if err := os.WriteFile(p, profileA(w.t), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// A missing pgofetch binary is reported with what to do about it; the
// build goes on without PGO, which pgo-check then catches; PGO_FAIL=1
// makes it an error.
func TestMissingPgofetch(t *testing.T) {
	w := newWork(t, "")
	w.writeMakefile(makefile("cmd/batch,,," + inSource(w)))
	w.vars = append(w.vars, "PGO_PGOFETCH="+filepath.Join(t.TempDir(), "no", "pgofetch"))

	out := w.mustMake()
	for _, want := range []string{
		"pgo.mk: warning: pgofetch not found",
		"set PGO_PGOFETCH=/path/to/pgofetch",
		"set PGO_SRC=",
		"pgo.mk: warning: bin/batch builds without PGO: no cmd/batch/default.pgo yet; no pgofetch binary",
		"go build -o bin/batch",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("make's output lacks %q", want)
		}
	}
	if strings.Count(out, "pgofetch not found") != 1 {
		t.Errorf("the missing binary should be explained once")
	}
	if _, err := os.Stat(filepath.Join(w.dir, "cmd/batch/default.pgo")); err == nil {
		t.Errorf("default.pgo appeared without pgofetch")
	}

	out, ok := w.make("pgo-check")
	if ok || !strings.Contains(out, "pgo-check: FAIL bin/batch: built without PGO") {
		t.Errorf("pgo-check passed a binary built without a profile")
	}

	out, ok = w.make("PGO_FAIL=1")
	if ok || !strings.Contains(out, "pgo.mk: error: pgofetch not found") {
		t.Errorf("with PGO_FAIL=1 a missing pgofetch must fail the build, saying why")
	}
	if strings.Contains(out, "go build") {
		t.Errorf("with PGO_FAIL=1 the build went on without pgofetch")
	}

	if err := os.RemoveAll(filepath.Join(w.dir, "bin")); err != nil {
		t.Fatal(err)
	}
	out, ok = w.make("pgo-check")
	if ok || !strings.Contains(out, "pgo-check: FAIL bin/batch: not built") {
		t.Errorf("pgo-check passed a binary that does not exist")
	}
}

// PGO_SRC builds pgofetch from this repository's sources with cmake, once
// even under make -j with two profiles, and uses it.
func TestBuildFromSource(t *testing.T) {
	w := newWork(t, "")
	in := inSource(w)
	w.writeMakefile(makefile("cmd/batch,,,"+in, "cmd/server,,-,"+in))
	build := filepath.Join(t.TempDir(), "pgofetch-build")
	w.vars = append(w.vars, "PGO_SRC="+testenv.RepoRoot(t), "PGO_SRC_BUILD="+build)

	out := w.mustMake("-j4", "pgo")
	if n := strings.Count(out, "pgo.mk: building pgofetch from "+testenv.RepoRoot(t)); n != 1 {
		t.Errorf("make said %d times that it builds pgofetch, want once", n)
	}
	w.stat("cmd/server/default.pgo")
	bin := filepath.Join(build, "core", "pgofetch")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("pgofetch was not built: %v", err)
	}
	if !strings.Contains(out, "'"+bin+"'") {
		t.Errorf("make did not run the pgofetch it built")
	}
	p1 := w.stat("cmd/batch/default.pgo")

	out = w.mustMake("-j4", "pgo")
	if strings.Contains(out, "building pgofetch") {
		t.Errorf("pgofetch was built again")
	}
	if w.stat("cmd/batch/default.pgo") != p1 {
		t.Errorf("the same profile rewrote default.pgo")
	}
}

// A bad setting is a usage error: it stops the build even fail-open, and
// so does a declaration with nothing to fetch.
func TestUsageErrors(t *testing.T) {
	w := newWorkWith(t, "")
	w.writeMakefile(makefile("cmd/batch,,," + inSource(w)))
	out, ok := w.make("PGO_FROM=soon")
	if ok || !strings.Contains(out, `pgo.mk: error: bad setting PGO_FROM for cmd/batch/default.pgo (pgofetch: invalid value "soon" for flag -from`) {
		t.Errorf("a bad PGO_FROM did not stop make, naming it")
	}
	if strings.Contains(out, "go build") || strings.Contains(out, "usage:") {
		t.Errorf("a bad PGO_FROM: make went on, or printed pgofetch's whole usage")
	}

	w.writeMakefile(makefile("cmd/batch"))
	out, ok = w.make("pgo")
	if ok || !strings.Contains(out, "cmd/batch: no Datadog query and no -in source") {
		t.Errorf("a declaration without query or source did not stop make")
	}
	// PGO_QUERIES fills in for declarations without queries.
	w.withServer()
	w.mustMake("pgo", "PGO_QUERIES=service:example")
	w.stat("cmd/batch/default.pgo")
}

// Queries separated by ';' reach the API as separate queries, quotes and
// all; pgo-help lists the declaration and never a key.
func TestQueriesAndHelp(t *testing.T) {
	w := newWorkWith(t, "")
	w.withServer()
	w.writeMakefile(makefile(`cmd/batch, service:example env:test ; service:other version:it's#1 ,-`))

	out := w.mustMake("pgo", "PGO_PROFILES=3")
	var got []string
	for _, r := range w.srv.Requests() {
		if r.Path != "/api/unstable/profiles/gopgo" {
			continue
		}
		var body struct {
			Queries []struct {
				Filter struct{ Query string }
				Limit  int
			}
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("request body: %v", err)
		}
		for _, q := range body.Queries {
			got = append(got, q.Filter.Query)
			if q.Limit != 3 {
				t.Errorf("limit %d, want PGO_PROFILES=3", q.Limit)
			}
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "service:example env:test") ||
		!strings.HasPrefix(got[1], "service:other version:it's#1") {
		t.Errorf("queries sent: %q", got)
	}
	if strings.Contains(out, "go build") {
		t.Errorf("make pgo built a binary")
	}

	out = w.mustMake("pgo-help")
	for _, want := range []string{
		"cmd/batch/default.pgo",
		"queries: service:example env:test ; service:other version:it's#1",
		"binary:  (none)",
		"DD_API_KEY     set",
		"PGO_API_URL    " + w.srv.URL(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pgo-help lacks %q", want)
		}
	}

	// No binary declared: pgo-check has nothing to vouch for.
	out, ok := w.make("pgo-check")
	if ok || !strings.Contains(out, "no binary declared") {
		t.Errorf("pgo-check passed with no binary to check")
	}

	w.mustMake("pgo-clean")
	if _, err := os.Stat(filepath.Join(w.dir, "cmd/batch/default.pgo")); err == nil {
		t.Errorf("pgo-clean left default.pgo")
	}
}
