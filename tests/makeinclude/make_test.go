// Package makeinclude tests make-include/pgo.mk with real GNU Make and a
// real go build of the example service, fetching profiles from the fake
// Datadog API (tests/fakedd) and from -in sources.
package makeinclude

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// Marker keys: they must never show up in what make prints or in a file
// the build writes.
const (
	apiKey = "mk0api0key0marker0c9f1e2d3b4a5968"
	appKey = "mk0app0key0marker07a6b5c4d3e2f1009"
)

// The profiles the tests serve: A, then B (A's values doubled, as the fake
// server's generation 1 does, so the Go build cache holds one compilation
// of the example per profile for both kinds of source).
func profileA(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(testenv.RealProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func profileB(t *testing.T) []byte {
	t.Helper()
	return profileScaled(t, func(int) int64 { return 2 })
}

// profileScaled is profile A with the values of its i-th sample times
// factor(i).
func profileScaled(t *testing.T, factor func(i int) int64) []byte {
	t.Helper()
	p, err := profile.ParseData(profileA(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range p.Sample {
		for j := range s.Value {
			s.Value[j] *= factor(i)
		}
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// work is one copy of the example with a Makefile that includes pgo.mk.
type work struct {
	t    *testing.T
	dir  string
	vars []string // make command-line variables every run gets
	env  []string // environment every run gets, besides the cleaned os.Environ
	srv  *fakedd.Server
}

// makefile is the Makefile of the README's usage, for the given
// declarations (each the argument list of pgo_profile).
func makefile(decls ...string) string {
	var b strings.Builder
	b.WriteString("include $(PGOFETCH_DIR)/make-include/pgo.mk\n\n")
	b.WriteString("GO_SOURCES := $(shell find . -name '*.go') go.mod\n\n")
	var bins []string
	for _, d := range decls {
		b.WriteString("$(eval $(call pgo_profile," + d + "))\n")
		pkg := strings.SplitN(d, ",", 2)[0]
		bins = append(bins, "bin/"+filepath.Base(pkg))
	}
	b.WriteString("\n.PHONY: all\nall: " + strings.Join(bins, " ") + "\n\n")
	b.WriteString("bin/%: $(GO_SOURCES)\n\tgo build -o $@ ./cmd/$*\n")
	return b.String()
}

func newWork(t *testing.T, mk string) *work {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "example")
	testenv.CopyTree(t, testenv.Example(t), dir)
	for _, stale := range []string{"cmd/server/default.pgo", "cmd/batch/default.pgo", "bin"} {
		os.RemoveAll(filepath.Join(dir, stale))
	}
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	return &work{
		t:    t,
		dir:  dir,
		vars: []string{"PGOFETCH_DIR=" + testenv.RepoRoot(t)},
		env:  []string{"DD_API_KEY=" + apiKey, "DD_APP_KEY=" + appKey},
	}
}

// newWorkWith is newWork using the pgofetch binary under test: a copy of
// it, so that a rebuild of the original in the middle of a test cannot
// change what the test sees.
func newWorkWith(t *testing.T, mk string) *work {
	t.Helper()
	w := newWork(t, mk)
	data, err := os.ReadFile(testenv.Pgofetch(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pgofetch")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	w.vars = append(w.vars, "PGO_PGOFETCH="+bin)
	return w
}

func (w *work) writeMakefile(mk string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "Makefile"), []byte(mk), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// withServer points the work at a fake Datadog API serving profile A.
func (w *work) withServer() {
	t := w.t
	t.Helper()
	srv, err := fakedd.Start(fakedd.Options{APIKey: apiKey, AppKey: appKey, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddProfile(fakedd.Profile{ID: "prof-a", Data: profileA(t)}); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	w.vars = append(w.vars, "PGO_API_URL="+srv.URL())
	w.env = append(w.env, "SSL_CERT_FILE="+ca)
}

// cleanEnv is the environment without what an enclosing make passes down
// (a jobserver whose descriptors the child does not have) and without
// settings that would change what the tests check.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "MAKEFLAGS", name == "MFLAGS", name == "MAKELEVEL", name == "MAKEOVERRIDES",
			name == "GNUMAKEFLAGS", name == "DD_API_KEY", name == "DD_APP_KEY", name == "DD_SITE",
			name == "PGOFETCH_API_URL", name == "SSL_CERT_FILE", name == "CURL_CA_BUNDLE",
			name == "CI", strings.HasPrefix(name, "PGO_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// make runs GNU make in the work directory and returns its output (stdout
// and stderr) and whether it succeeded. Nothing make prints may hold a key.
func (w *work) make(args ...string) (string, bool) {
	w.t.Helper()
	cmd := exec.Command("make", append(append([]string{}, w.vars...), args...)...)
	cmd.Dir = w.dir
	cmd.Env = append(cleanEnv(), w.env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	w.t.Logf("make %s (%.1fs):\n%s", strings.Join(args, " "), time.Since(start).Seconds(), out)
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			w.t.Fatalf("make: %v", err)
		}
	}
	noKeys(w.t, "make's output", out)
	return string(out), err == nil
}

func (w *work) mustMake(args ...string) string {
	w.t.Helper()
	out, ok := w.make(args...)
	if !ok {
		w.t.Fatalf("make %s failed", strings.Join(args, " "))
	}
	return out
}

func noKeys(t *testing.T, what string, data []byte) {
	t.Helper()
	for _, k := range []string{apiKey, appKey} {
		if bytes.Contains(data, []byte(k)) {
			t.Errorf("%s holds a Datadog key", what)
		}
	}
}

// noKeysInFiles checks every file of the work directory.
func (w *work) noKeysInFiles() {
	w.t.Helper()
	err := filepath.Walk(w.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		noKeys(w.t, path, data)
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// state is what a run may change: a file's mtime and content hash.
type state struct {
	mtime time.Time
	sum   [32]byte
}

func (w *work) stat(rel string) state {
	w.t.Helper()
	p := filepath.Join(w.dir, rel)
	st, err := os.Stat(p)
	if err != nil {
		w.t.Fatalf("%s: %v", rel, err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		w.t.Fatal(err)
	}
	return state{st.ModTime(), sha256.Sum256(data)}
}

// pgoPath is the -pgo= setting of a built binary's build info ("" for none).
func (w *work) pgoPath(bin string) string {
	w.t.Helper()
	out, err := exec.Command("go", "version", "-m", filepath.Join(w.dir, bin)).CombinedOutput()
	if err != nil {
		w.t.Fatalf("go version -m %s: %v\n%s", bin, err, out)
	}
	m := regexp.MustCompile(`(?m)^\s*build\s+-pgo=(.*)$`).FindStringSubmatch(string(out))
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// trimpath tells whether bin was built with -trimpath.
func (w *work) trimpath(bin string) bool {
	w.t.Helper()
	out, err := exec.Command("go", "version", "-m", filepath.Join(w.dir, bin)).CombinedOutput()
	if err != nil {
		w.t.Fatalf("go version -m %s: %v\n%s", bin, err, out)
	}
	return regexp.MustCompile(`(?m)^\s*build\s+-trimpath=true$`).Match(out)
}

// builtWithProfile checks that bin was built with PKG's default.pgo.
func (w *work) builtWithProfile(bin, pkg string) {
	w.t.Helper()
	got := w.pgoPath(bin)
	want := filepath.Join(w.dir, pkg, "default.pgo")
	real, _ := filepath.EvalSymlinks(want)
	if got == "default.pgo" && w.trimpath(bin) {
		return // -trimpath records the profile's base name only
	}
	if got != want && got != real {
		w.t.Errorf("%s: go version -m shows -pgo=%q, want -pgo=%s", bin, got, want)
	}
}

// source is where the profiles come from, seen from the tests.
type source struct {
	name string
	// decl is the declaration arguments after the package directory.
	decl func(w *work) string
	// change makes the next fetch give profile B.
	change func(w *work)
	// outage makes the next fetches fail, or not.
	outage func(w *work, on bool)
	// fetched reports how many fetches reached the source so far (-1: not known).
	fetched func(w *work) int
}

var sources = []source{
	{
		name: "fakedd",
		decl: func(w *work) string {
			w.withServer()
			return "service:example env:test"
		},
		change: func(w *work) { w.srv.SetGeneration(1) },
		outage: func(w *work, on bool) { w.srv.SetOutage(on) },
		fetched: func(w *work) int {
			n := 0
			for _, r := range w.srv.Requests() {
				if r.Path == "/api/unstable/profiles/gopgo" && r.Status == 200 {
					n++
				}
			}
			return n
		},
	},
	{
		name: "in",
		decl: func(w *work) string {
			p := filepath.Join(filepath.Dir(w.dir), "profiles", "cpu.pprof")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				w.t.Fatal(err)
			}
			if err := os.WriteFile(p, profileA(w.t), 0o644); err != nil {
				w.t.Fatal(err)
			}
			return ",," + p
		},
		change: func(w *work) {
			p := filepath.Join(filepath.Dir(w.dir), "profiles", "cpu.pprof")
			if err := os.WriteFile(p, profileB(w.t), 0o644); err != nil {
				w.t.Fatal(err)
			}
		},
		outage: func(w *work, on bool) {
			p := filepath.Join(filepath.Dir(w.dir), "profiles", "cpu.pprof")
			var err error
			if on {
				err = os.Rename(p, p+".away")
			} else {
				err = os.Rename(p+".away", p)
			}
			if err != nil {
				w.t.Fatal(err)
			}
		},
		fetched: func(w *work) int { return -1 },
	},
}

// TestSequence runs the cases 1 to 5 in order on one copy of the
// example, for each source, fetching on every run (PGO_MAX_AGE=0, as in CI).
func TestSequence(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			w := newWorkWith(t, "")
			w.vars = append(w.vars, "PGO_MAX_AGE=0")
			w.writeMakefile(makefile("cmd/batch," + src.decl(w)))
			const pgo, bin = "cmd/batch/default.pgo", "bin/batch"
			fetchLine := regexp.MustCompile(`(?m)^'[^']*pgofetch'.* 'cmd/batch/default\.pgo'$`)

			// 1. The first make fetches, writes default.pgo, builds with it.
			out := w.mustMake()
			if !fetchLine.MatchString(out) {
				t.Errorf("case 1: make did not print the pgofetch command")
			}
			// The declaration comes first in the Makefile, yet all
			// stays the default goal.
			if !strings.Contains(out, "go build -o bin/batch") {
				t.Errorf("case 1: make without a goal did not build all")
			}
			p1, b1 := w.stat(pgo), w.stat(bin)
			w.builtWithProfile(bin, "cmd/batch")
			if n := src.fetched(w); n == 0 {
				t.Errorf("case 1: the server saw no successful fetch")
			}

			// 2. Same profiles: pgofetch runs again, but neither
			// default.pgo nor the binary changes.
			before := src.fetched(w)
			time.Sleep(20 * time.Millisecond) // a rewrite would show in the mtime
			out = w.mustMake()
			if !fetchLine.MatchString(out) {
				t.Errorf("case 2: pgofetch did not run on the second make")
			}
			if n := src.fetched(w); before >= 0 && n <= before {
				t.Errorf("case 2: no new fetch reached the server (%d, then %d)", before, n)
			}
			if strings.Contains(out, "go build") {
				t.Errorf("case 2: make ran go build again")
			}
			if p2 := w.stat(pgo); p2 != p1 {
				t.Errorf("case 2: default.pgo was rewritten (mtime %v -> %v)", p1.mtime, p2.mtime)
			}
			if b2 := w.stat(bin); b2 != b1 {
				t.Errorf("case 2: the binary was relinked (mtime %v -> %v)", b1.mtime, b2.mtime)
			}

			// 3. A changed profile rewrites default.pgo and rebuilds.
			src.change(w)
			out = w.mustMake()
			p3, b3 := w.stat(pgo), w.stat(bin)
			if p3.sum == p1.sum || !p3.mtime.After(p1.mtime) {
				t.Errorf("case 3: default.pgo was not rewritten with the changed profile")
			}
			if !strings.Contains(out, "go build -o bin/batch") || !b3.mtime.After(b1.mtime) {
				t.Errorf("case 3: the binary was not rebuilt")
			}
			w.builtWithProfile(bin, "cmd/batch")

			// 4. An outage keeps the profile; the build goes on, warning.
			src.outage(w, true)
			out, ok := w.make("PGO_TIMEOUT=3s")
			if !ok {
				t.Errorf("case 4: make failed during an outage (fail-open expected)")
			}
			// pgofetch's error, then pgo.mk's one line saying what
			// the build goes on with.
			if !strings.Contains(out, "ERR ") {
				t.Errorf("case 4: pgofetch's error is not in make's output")
			}
			if !strings.Contains(out, "pgo.mk: warning: bin/batch builds with the cmd/batch/default.pgo already there; a source could not be read") {
				t.Errorf("case 4: no one-line warning saying the build goes on with the old profile")
			}
			if p4 := w.stat(pgo); p4 != p3 {
				t.Errorf("case 4: the outage changed default.pgo")
			}
			if b4 := w.stat(bin); b4 != b3 {
				t.Errorf("case 4: the outage relinked the binary")
			}
			w.builtWithProfile(bin, "cmd/batch")

			// 5. PGO_FAIL=1: the outage fails the build, and still keeps
			// default.pgo as it was.
			out, ok = w.make("PGO_TIMEOUT=3s", "PGO_FAIL=1")
			if ok {
				t.Errorf("case 5: make succeeded during an outage with PGO_FAIL=1")
			}
			if !strings.Contains(out, "pgo.mk: error: cmd/batch/default.pgo not refreshed, and PGO_FAIL=1 stops the build") {
				t.Errorf("case 5: make did not say that pgofetch failed")
			}
			if strings.Contains(out, "go build") {
				t.Errorf("case 5: the build went on after the failed fetch")
			}
			if p5 := w.stat(pgo); p5 != p3 {
				t.Errorf("case 5: the failed fetch changed default.pgo")
			}

			// The outage over, a make is quiet again.
			src.outage(w, false)
			out = w.mustMake("PGO_FAIL=1")
			if strings.Contains(out, "go build") || w.stat(pgo) != p3 {
				t.Errorf("after the outage: the same profile rewrote or rebuilt something")
			}
			w.noKeysInFiles()
		})
	}
}

// TestParallel is case 6: make -j4 with two main packages builds both,
// each with its own profile, fetching each once.
func TestParallel(t *testing.T) {
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			w := newWorkWith(t, "")
			decl := src.decl(w)
			mk := makefile("cmd/server,"+decl, "cmd/batch,"+decl)
			if src.name == "fakedd" {
				// The example Makefile, unchanged: its queries name
				// services the fake server answers for.
				data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "make-include", "Makefile.example"))
				if err != nil {
					t.Fatal(err)
				}
				mk = string(data)
			}
			w.writeMakefile(mk)
			out := w.mustMake("-j4")
			for _, pkg := range []string{"cmd/server", "cmd/batch"} {
				if n := strings.Count(out, "'"+pkg+"/default.pgo'\n"); n != 1 {
					t.Errorf("pgofetch ran %d times for %s, want once", n, pkg)
				}
				bin := "bin/" + filepath.Base(pkg)
				w.stat(pkg + "/default.pgo")
				w.builtWithProfile(bin, pkg)
			}
			out = w.mustMake("pgo-check")
			if strings.Count(out, "pgo-check: ok bin/") != 2 {
				t.Errorf("pgo-check did not pass both binaries")
			}
			// Nothing changed: a second parallel make rebuilds nothing.
			s1, b1 := w.stat("bin/server"), w.stat("bin/batch")
			out = w.mustMake("-j4")
			if strings.Contains(out, "go build") || w.stat("bin/server") != s1 || w.stat("bin/batch") != b1 {
				t.Errorf("a second make -j4 with the same profiles rebuilt a binary")
			}
			w.noKeysInFiles()
		})
	}
}
