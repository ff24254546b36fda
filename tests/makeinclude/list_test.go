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

// fzfListed declares fzf's profile from a pgofetch.list, naming the binary
// fzf's Makefile builds.
const fzfListed = "include pgo.mk\n$(eval $(call pgo_list,pgofetch.list,.=target/$(BINARY)))\n"

// requireRefresh skips, loudly, when the pgofetch under test has no
// refresh mode to run the list with.
func requireRefresh(t *testing.T) {
	t.Helper()
	out, _ := exec.Command(testenv.Pgofetch(t), "refresh", "-h").CombinedOutput()
	if !bytes.Contains(out, []byte("usage: pgofetch refresh")) {
		testenv.Skip(t, "the pgofetch under test has no refresh mode (pgofetch refresh -h: %q)", firstLine(out))
	}
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(string(b), "\n")
	return l
}

func (w *work) writeFile(rel, text string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, rel), []byte(text), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// pgo_list on fzf's Makefile: the package of the list's line is declared
// and its binary wired to its profile; the fetch is pgofetch refresh of
// that package, and its profile what the line's arguments give by hand;
// fzf builds once with it, then builds nothing; a query in the line
// reaches the API; committed mode runs nothing; mistakes stop make.
func TestFzfList(t *testing.T) {
	requireRefresh(t)
	w := fzfWithProfiles(t, fzfListed)
	w.writeFile("pgofetch.list", "# fzf's main package\n.   -in prod.pprof -weight 3 -in bench.pprof\n")

	// No keys; files only: refreshed, built once with the profile.
	out := w.mustMake()
	if !strings.Contains(out, "refresh -fail -list 'pgofetch.list' ") || !strings.Contains(out, " '.'\n") {
		t.Errorf("make did not run pgofetch refresh -list pgofetch.list for the package")
	}
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("list: go build ran %d times, want once", n)
	}
	bin := w.fzfBinary()
	w.builtWithProfile(bin, ".")
	byHand := w.pgofetch("hand.pgo", "-in", "prod.pprof", "-weight", "3", "-in", "bench.pprof")
	if !bytes.Equal(w.read("default.pgo"), byHand) {
		t.Errorf("default.pgo is not what the line's arguments give pgofetch by hand")
	}
	b1 := w.ident(bin)
	out = w.mustMake()
	w.nothingRebuilt("list, second make", out, bin, b1)

	// A query in the line, with keys: fetched from the API.
	w.writeFile("pgofetch.list", ".  'service:fzf env:prod' -weight 0.5 -in prod.pprof\n")
	w.env = append(w.env, "DD_API_KEY="+apiKey, "DD_APP_KEY="+appKey)
	w.mustMake("pgo", "CI=true")
	if gopgoFetches(w) != 1 {
		t.Errorf("list with a query: %d fetches, want 1", gopgoFetches(w))
	}

	// Committed mode: pgofetch never runs, even without a binary.
	w.env = append(w.env, "PATH="+pathWithout(t))
	out = w.mustMake("pgo", "CI=true", "PGO_MODE=committed")
	if strings.Contains(out, "refresh") || gopgoFetches(w) != 1 {
		t.Errorf("PGO_MODE=committed: the list's package was refreshed")
	}
	w.env = append(w.env, "PATH="+pathWith(t))

	// Mistakes: a bad line (pgofetch's usage error), a binary for a
	// package the list lacks, no list file.
	w.writeFile("pgofetch.list", ". -frob\n")
	out, ok := w.make("pgo", "CI=true")
	if ok || !strings.Contains(out, "pgo.mk: error: pgofetch rejected a setting or pgofetch.list's line for default.pgo") {
		t.Errorf("a bad list line did not stop make saying so")
	}
	good := string(w.read("Makefile"))
	for _, c := range []struct{ wiring, want string }{
		{"$(eval $(call pgo_list,pgofetch.list,cmd/x=bin/x))", "pgo.mk: pgo_list pgofetch.list: 'cmd/x=bin/x' names a package the list does not have"},
		{"$(eval $(call pgo_list,none.list))", "pgo.mk: pgo_list none.list: no such file in "},
	} {
		w.writeMakefile(strings.Replace(good, "$(eval $(call pgo_list,pgofetch.list,.=target/$(BINARY)))", c.wiring, 1))
		out, ok := w.make("pgo")
		if ok || !strings.Contains(out, c.want) {
			t.Errorf("%s: want make to stop saying %q", c.wiring, c.want)
		}
	}
}

// pgo_list with two main packages of the example, run under make -j2:
// each listed package is declared with its default binary and refreshed
// by its own pgofetch refresh; both binaries are built with their profile.
func TestListTwoPackages(t *testing.T) {
	requireRefresh(t)
	w := newWorkWith(t, "include $(PGOFETCH_DIR)/make-include/pgo.mk\n"+
		"$(eval $(call pgo_list,pgofetch.list))\n"+
		"all: bin/server bin/batch\n"+
		"bin/%: $(shell find . -name '*.go') go.mod\n\tgo build -o $@ ./cmd/$*\n")
	if err := os.WriteFile(filepath.Join(filepath.Dir(w.dir), "a.pprof"), profileA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	w.writeFile("pgofetch.list", "# two services\ncmd/server  -in ../a.pprof\n\n   ./cmd/batch -weight 2 -in ../a.pprof # doubled\n")
	out := w.mustMake("-j2")
	for _, pkg := range []string{"cmd/server", "cmd/batch"} {
		word := map[string]string{"cmd/server": "cmd/server", "cmd/batch": "./cmd/batch"}[pkg]
		if !strings.Contains(out, "refresh -fail -list 'pgofetch.list' -from='72h' -timeout='1m' -max-age='24h' '"+word+"'") {
			t.Errorf("%s: no pgofetch refresh of it", pkg)
		}
		w.builtWithProfile("bin/"+filepath.Base(pkg), pkg)
	}
	if help := w.mustMake("pgo-help"); !strings.Contains(help, "queries: (its line in pgofetch.list)") {
		t.Errorf("pgo-help does not say where a listed package's queries are")
	}
	// A list of files needs pgofetch without keys: a missing one is
	// explained once, before each package's "(see above)".
	w.env = nil
	out = w.mustMake("PGO_PGOFETCH=" + filepath.Join(t.TempDir(), "no", "pgofetch"))
	if strings.Count(out, "pgo.mk: warning: pgofetch not found") != 1 || !strings.Contains(out, "no pgofetch binary to fetch one (see above)") {
		t.Errorf("a missing pgofetch with a listed package is not explained once:\n%s", out)
	}
}
