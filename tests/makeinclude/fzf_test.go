package makeinclude

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgofetch/tests/internal/testenv"
)

// fzf is a real third-party Go project with its own non-trivial Makefile
// (a binary per GOARCH under target/, a version taken from git or
// FZF_VERSION, go build -a -trimpath), fetched through the Go module proxy.
const fzfModule = "github.com/junegunn/fzf@v0.65.2"

// fzfAnchor is the line of fzf's Makefile the wiring goes before: after
// the variables that name the binary, before its first rule.
const fzfAnchor = "\nall: target/$(BINARY)\n"

// fzfWiring is what make-include/README.md tells a user to add: the
// include and one declaration, after the variables it uses.
const fzfWiring = "include pgo.mk\n$(eval $(call pgo_profile,.,service:fzf env:prod,target/$(BINARY)))\n"

// newFzf is fzf's source with pgo.mk copied in and wired into its
// Makefile as the README says. Builds run offline (GOPROXY=off) with the
// given PATH.
func newFzf(t *testing.T) *work {
	t.Helper()
	return newFzfWired(t, fzfWiring)
}

// newFzfWired is newFzf with these lines in place of fzfWiring.
func newFzfWired(t *testing.T, wiring string) *work {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fzf")
	testenv.ModuleSource(t, fzfModule, dir)
	pgomk, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "make-include", "pgo.mk"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pgo.mk"), pgomk, 0o644); err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(mk), fzfAnchor)
	if i < 0 {
		t.Fatalf("fzf's Makefile has no %q to wire pgo.mk in before", strings.TrimSpace(fzfAnchor))
	}
	w := &work{t: t, dir: dir}
	w.writeMakefile(string(mk[:i+1]) + wiring + string(mk[i+1:]))
	w.env = []string{
		// fzf's Makefile reads its version from git, or from these.
		"FZF_VERSION=0.65.2", "FZF_REVISION=pgotest",
		"GOPROXY=off", "GOFLAGS=", "GOTOOLCHAIN=local",
	}
	return w
}

// pathWithout is $PATH less every directory that holds a pgofetch.
func pathWithout(t *testing.T) string {
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "pgofetch")); err != nil {
			keep = append(keep, d)
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// pathWith is $PATH with the pgofetch under test installed in front.
func pathWith(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(testenv.Pgofetch(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pgofetch"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + pathWithout(t)
}

// closedURL is an API URL nothing listens on: the network is down.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "https://" + addr
}

// ident is what shows whether a file was rewritten or replaced.
type ident struct {
	state
	ino uint64
}

func (w *work) ident(rel string) ident {
	w.t.Helper()
	st, err := os.Stat(filepath.Join(w.dir, rel))
	if err != nil {
		w.t.Fatalf("%s: %v", rel, err)
	}
	return ident{w.stat(rel), st.Sys().(*syscall.Stat_t).Ino}
}

// fzfBinary is the one binary fzf's Makefile built under target/.
func (w *work) fzfBinary() string {
	w.t.Helper()
	m, _ := filepath.Glob(filepath.Join(w.dir, "target", "fzf-*"))
	if len(m) != 1 {
		w.t.Fatalf("want one binary in fzf's target/, have %q", m)
	}
	rel, _ := filepath.Rel(w.dir, m[0])
	return rel
}

// pgoLines are the lines pgo.mk printed.
func pgoLines(out string) []string {
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "pgo.mk:") {
			l = append(l, line)
		}
	}
	return l
}

// nothingRebuilt checks that a make run built nothing: no go build, and
// the binary the same file as before.
func (w *work) nothingRebuilt(what, out, bin string, before ident) {
	w.t.Helper()
	if strings.Contains(out, "go build") {
		w.t.Errorf("%s: make ran go build", what)
	}
	if now := w.ident(bin); now != before {
		w.t.Errorf("%s: %s was rebuilt or touched", what, bin)
	}
}

// gopgoFetches counts the successful profile requests the server saw.
func gopgoFetches(w *work) int {
	n := 0
	for _, r := range w.srv.Requests() {
		if r.Path == "/api/unstable/profiles/gopgo" && r.Status == 200 {
			n++
		}
	}
	return n
}

// TestFzf runs every scenario of the table on fzf's own Makefile,
// in the order a repository meets them: a contributor's first builds
// without keys or network, mistakes, a missing pgofetch, then keys and an
// API, an outage after a good fetch, a new profile.
func TestFzf(t *testing.T) {
	w := newFzf(t)
	w.withServer() // only reached once keys are given and PGO_API_URL is not overridden
	withTool := pathWith(t)
	base := append([]string{}, w.env...)
	run := func(env []string, args ...string) (string, bool) {
		w.env = append(append([]string{}, base...), env...)
		return w.make(args...)
	}
	const pgo = "default.pgo" // fzf's main package is the module root
	down := closedURL(t)

	// No keys, no network, no default.pgo: one build without PGO, one line.
	out, ok := run([]string{"PATH=" + withTool}, "PGO_API_URL="+down)
	if !ok {
		t.Fatalf("no keys: make failed")
	}
	bin := w.fzfBinary()
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("no keys: go build ran %d times, want once", n)
	}
	want := "pgo.mk: note: " + bin + " builds without PGO: no default.pgo yet; DD_API_KEY and DD_APP_KEY are not set to fetch one"
	if l := pgoLines(out); len(l) != 1 || !strings.HasPrefix(l[0], want) {
		t.Errorf("no keys: pgo.mk said %q, want one line %q...", l, want)
	}
	if strings.Contains(out, "'pgofetch'") || strings.Contains(out, "INF pgofetch") {
		t.Errorf("no keys: pgofetch ran, though it cannot fetch anything")
	}
	if p := w.pgoPath(bin); p != "" {
		t.Errorf("no keys: built with -pgo=%s", p)
	}
	if _, err := os.Stat(filepath.Join(w.dir, pgo)); err == nil {
		t.Fatalf("no keys: a default.pgo appeared")
	}
	b0 := w.ident(bin)
	time.Sleep(20 * time.Millisecond)
	out, _ = run([]string{"PATH=" + withTool}, "PGO_API_URL="+down)
	w.nothingRebuilt("no keys, second make", out, bin, b0)

	// Keys, but no network: the same, saying why.
	keys := []string{"DD_API_KEY=" + apiKey, "DD_APP_KEY=" + appKey}
	out, ok = run(append([]string{"PATH=" + withTool}, keys...), "PGO_API_URL="+down, "PGO_TIMEOUT=2s")
	if !ok {
		t.Errorf("no network: make failed")
	}
	if !strings.Contains(out, "pgo.mk: warning: "+bin+" builds without PGO: no default.pgo yet; a source could not be read") {
		t.Errorf("no network: no one-line warning saying the build goes on without PGO")
	}
	w.nothingRebuilt("no network", out, bin, b0)

	// Bad settings stop make at once, naming them.
	out, ok = run(append([]string{"PATH=" + withTool}, keys...), "PGO_API_URL="+down, "PGO_TIMEOUT=soon")
	if ok || !strings.Contains(out, "pgo.mk: error: bad setting PGO_TIMEOUT for default.pgo") {
		t.Errorf("PGO_TIMEOUT=soon did not stop make naming it")
	}
	w.nothingRebuilt("bad PGO_TIMEOUT", out, bin, b0)
	out, ok = run(append([]string{"PATH=" + withTool}, keys...), "PGO_API_URL="+down, "PGO_MAXAGE=1h")
	if ok || !strings.Contains(out, "pgo.mk: error: unknown setting PGO_MAXAGE") {
		t.Errorf("a misspelt PGO_MAX_AGE did not stop make naming it")
	}
	w.nothingRebuilt("PGO_MAXAGE", out, bin, b0)

	// The declaration written before fzf sets BINARY: stopped, not wired
	// to target/ in silence.
	mkfile := filepath.Join(w.dir, "Makefile")
	good, err := os.ReadFile(mkfile)
	if err != nil {
		t.Fatal(err)
	}
	mkStat, err := os.Stat(mkfile)
	if err != nil {
		t.Fatal(err)
	}
	early := fzfWiring + strings.Replace(string(good), fzfWiring, "", 1)
	w.writeMakefile(early)
	out, ok = run([]string{"PATH=" + withTool})
	if ok || !strings.Contains(out, "pgo.mk: pgo_profile .: BINARY 'target/' ends in /: is a variable in it set only after this declaration?") {
		t.Errorf("a declaration before BINARY is set was not stopped")
	}
	// Put back as it was: fzf's binary depends on its Makefile.
	w.writeMakefile(string(good))
	if err := os.Chtimes(mkfile, mkStat.ModTime(), mkStat.ModTime()); err != nil {
		t.Fatal(err)
	}

	// The API up, but no pgofetch on PATH: built without PGO, a warning;
	// a failure only with PGO_FAIL=1.
	noTool := "PATH=" + pathWithout(t)
	out, ok = run(append([]string{noTool}, keys...))
	if !ok || !strings.Contains(out, "pgo.mk: warning: "+bin+" builds without PGO: no default.pgo yet; no pgofetch binary") ||
		!strings.Contains(out, "pgo.mk: warning: pgofetch not found") {
		t.Errorf("no pgofetch: want a warning and the build going on")
	}
	w.nothingRebuilt("no pgofetch", out, bin, b0)
	out, ok = run(append([]string{noTool}, keys...), "PGO_FAIL=1")
	if ok || !strings.Contains(out, "pgo.mk: error: pgofetch not found") {
		t.Errorf("no pgofetch, PGO_FAIL=1: make did not fail saying why")
	}
	w.nothingRebuilt("no pgofetch, PGO_FAIL=1", out, bin, b0)

	// Keys and the API up: fetched, built once with -pgo=.
	env := append([]string{"PATH=" + withTool}, keys...)
	out, ok = run(env)
	if !ok {
		t.Fatalf("API up: make failed")
	}
	if gopgoFetches(w) != 1 {
		t.Errorf("API up: %d fetches, want 1", gopgoFetches(w))
	}
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("API up: go build ran %d times, want once", n)
	}
	w.builtWithProfile(bin, ".")
	p1, b1 := w.ident(pgo), w.ident(bin)
	if out, ok := w.make("pgo-check"); !ok || !strings.Contains(out, "pgo-check: ok "+bin) {
		t.Errorf("pgo-check does not vouch for %s", bin)
	}

	// The next build does nothing: a developer's make fetches again only
	// after PGO_MAX_AGE (24h); CI's (CI set) fetches, finds the same
	// profile, rewrites and relinks nothing.
	time.Sleep(20 * time.Millisecond)
	out, _ = run(env)
	if gopgoFetches(w) != 1 {
		t.Errorf("second make: fetched again within PGO_MAX_AGE")
	}
	w.nothingRebuilt("second make", out, bin, b1)
	out, _ = run(append(env, "CI=true"))
	if gopgoFetches(w) != 2 {
		t.Errorf("CI=true: did not fetch again")
	}
	w.nothingRebuilt("CI=true, same profile", out, bin, b1)
	if w.ident(pgo) != p1 {
		t.Errorf("CI=true, same profile: default.pgo was rewritten")
	}

	// The API down after a good fetch, refresh forced: the build goes on,
	// default.pgo kept byte for byte, nothing relinked.
	w.srv.SetOutage(true)
	out, ok = run(env, "PGO_MAX_AGE=0", "PGO_TIMEOUT=3s")
	if !ok {
		t.Errorf("outage: make failed")
	}
	if !strings.Contains(out, "pgo.mk: warning: "+bin+" builds with the default.pgo already there; a source could not be read") {
		t.Errorf("outage: no one-line warning saying the build keeps the last good profile")
	}
	if w.ident(pgo) != p1 {
		t.Errorf("outage: default.pgo changed")
	}
	w.nothingRebuilt("outage", out, bin, b1)
	w.srv.SetOutage(false)

	// A new profile: exactly one rebuild, with it.
	w.srv.SetGeneration(1)
	out, _ = run(append(env, "CI=true"))
	p2 := w.ident(pgo)
	if p2.sum == p1.sum {
		t.Fatalf("new profile: default.pgo not rewritten")
	}
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("new profile: go build ran %d times, want once", n)
	}
	if !strings.Contains(out, "pgo.mk: default.pgo changed: "+bin+" is rebuilt with it") {
		t.Errorf("new profile: make did not say why it rebuilds")
	}
	w.builtWithProfile(bin, ".")
	b2 := w.ident(bin)
	out, _ = run(append(env, "CI=true"))
	w.nothingRebuilt("after the new profile", out, bin, b2)
	w.noKeysInFiles()
}
