// Package bazelrule tests the Bazel integration (bazel/) with a real Bazel
// and a real Gazelle: one test workspace (testdata/workspace, with
// bazel/README.md's WORKSPACE snippet) whose repositories are made by
// pgofetch_profile, against the fake Datadog API and -in sources, and a
// genrule that builds the example's cmd/batch with the host Go toolchain and
// -pgo=<the fetched profile>, standing in for rules_go's go_binary (no
// rules_go with pgoprofile runs on the Bazel here, 4.2.3). The scenarios run
// in sequence on one Bazel server (its output base in the test's temporary
// directory), because each builds on the state the previous one left.
package bazelrule

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// Marker keys: distinctive, so that finding one anywhere is a leak.
const (
	apiKey        = "pgofetchBazelTestApiKey7c1e9a"
	appKey        = "pgofetchBazelTestAppKey52d0f4b8"
	rotatedAPIKey = "pgofetchBazelTestRotatedApiKey3b6d"
	rotatedAppKey = "pgofetchBazelTestRotatedAppKey91aa"
)

const query = "service:pgofetch-example env:test"

// bazelEnv is a Bazel workspace and the server that builds it.
type bazelEnv struct {
	t       *testing.T
	bin     string
	ws      string
	userDir string   // --output_user_root
	startup []string // the same for every command, or the server restarts
	env     map[string]string
	output  bytes.Buffer // everything Bazel printed, to look for keys in
}

// run runs one Bazel command; it returns its output (stdout, then stderr)
// and whether it succeeded.
func (b *bazelEnv) run(args ...string) (string, bool) {
	b.t.Helper()
	out, _, ok := b.run2(args...)
	return out, ok
}

// run2 is run that also returns stdout alone.
func (b *bazelEnv) run2(args ...string) (string, string, bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, append(append([]string{}, b.startup...), args...)...)
	cmd.Dir = b.ws
	for k, v := range b.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	b.output.Write(stdout.Bytes())
	b.output.Write(stderr.Bytes())
	out := stdout.String() + stderr.String()
	if ctx.Err() != nil {
		b.t.Fatalf("bazel %s: timed out\n%s", strings.Join(args, " "), out)
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			b.t.Fatalf("bazel %s: %v", strings.Join(args, " "), err)
		}
	}
	return out, stdout.String(), err == nil
}

// mustRun is run for a command that must succeed.
func (b *bazelEnv) mustRun(args ...string) string {
	b.t.Helper()
	out, ok := b.run(args...)
	if !ok {
		b.t.Fatalf("bazel %s failed:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func (b *bazelEnv) outputBase() string {
	b.t.Helper()
	out, stdout, ok := b.run2("info", "output_base")
	if !ok {
		b.t.Fatalf("bazel info output_base failed:\n%s", out)
	}
	return strings.TrimSpace(stdout)
}

// repoFile is a file of an external repository.
func (b *bazelEnv) repoFile(outputBase, repo, name string) string {
	return filepath.Join(outputBase, "external", repo, name)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseProfile parses a fetched profile, which must hold samples; a failure
// shows the repository's fetch.log.
func parseProfile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	data := readFile(t, path)
	why := ""
	p, err := profile.ParseData(data)
	switch {
	case len(data) == 0:
		why = "is empty, want a profile"
	case err != nil:
		why = err.Error()
	case len(p.Sample) == 0:
		why = "holds no samples"
	default:
		return p
	}
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "fetch.log"))
	t.Fatalf("%s %s; fetch.log:\n%s", path, why, log)
	return nil
}

func hasFunction(p *profile.Profile, name string) bool {
	for _, f := range p.Function {
		if f.Name == name {
			return true
		}
	}
	return false
}

// goBuildPGO is the -pgo= build setting `go version -m` reports for bin.
func goBuildPGO(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m %s: %v\n%s", bin, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "-pgo=") {
			return strings.TrimPrefix(f[1], "-pgo=")
		}
	}
	return ""
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// gopgoRequests counts the fake API's requests to the gopgo endpoint, and
// checks that each carried the right keys.
func gopgoRequests(t *testing.T, dd *fakedd.Server) int {
	t.Helper()
	n := 0
	for _, r := range dd.Requests() {
		if r.Path != "/api/unstable/profiles/gopgo" {
			continue
		}
		n++
		if r.APIKey != fakedd.KeyOK || r.AppKey != fakedd.KeyOK {
			t.Errorf("request %s %s: api key %s, app key %s, want both ok", r.Method, r.Path, r.APIKey, r.AppKey)
		}
	}
	return n
}

func TestBazelRepositoryRule(t *testing.T) {
	bazelBin, err := exec.LookPath("bazel")
	if err != nil {
		t.Fatal("bazel is not on PATH: install Debian's bazel-bootstrap (make test does), or any Bazel ≥ 4")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is not on PATH")
	}
	pgofetch := testenv.Pgofetch(t)
	repo := testenv.RepoRoot(t)

	tmp := bazelTempDir(t)

	// The fake Datadog API with two profiles of README's service.
	dd, err := fakedd.Start(fakedd.Options{APIKey: apiKey, AppKey: appKey, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dd.Close() })
	for i, seed := range []int{1, 2} {
		err := dd.AddProfile(fakedd.Profile{
			ID:      fmt.Sprintf("bazel-profile-%d", i),
			Data:    fakedd.SyntheticCPUProfile(seed, 1.5+float64(i), time.Minute),
			Service: "server",
			Tags:    []string{"env:prod"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	caFile := filepath.Join(tmp, "ca.pem")
	if err := os.WriteFile(caFile, dd.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}

	// A net/http/pprof endpoint stand-in for -in URLs.
	var pprofHits atomic.Int64
	pprofBody := fakedd.SyntheticCPUProfile(7, 1, 10*time.Second)
	pprofSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r)
			return
		}
		pprofHits.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pprofBody)
	}))
	t.Cleanup(pprofSrv.Close)

	// The workspace: testdata/workspace with README's WORKSPACE snippet, its
	// http_archive pointed at a tarball of this source tree; the example,
	// the binary under test and a real profile.
	ws := filepath.Join(tmp, "ws")
	testenv.CopyTree(t, filepath.Join("testdata", "workspace"), ws)
	testenv.CopyTree(t, testenv.Example(t), filepath.Join(ws, "example"))
	copyFile(t, pgofetch, filepath.Join(ws, "tools", "pgofetch"), 0o755)
	grpc := testenv.RealProfile(t)
	copyFile(t, grpc, filepath.Join(ws, "profiles", "grpc.pprof"), 0o644)
	wsFile := filepath.Join(ws, "WORKSPACE")
	text := string(readFile(t, wsFile))
	listFile := filepath.Join(ws, "pgofetch.list")
	writeFile(t, listFile, readmeSnippet(t, "pgofetch.list"))
	// A go newer than any Go -trim is proven for.
	writeFile(t, filepath.Join(ws, "tools", "go"), testenv.FakeGoScript(newGo))
	os.Chmod(filepath.Join(ws, "tools", "go"), 0o755)
	bench := filepath.Join(ws, "profiles", "bench.pprof")
	if err := os.WriteFile(bench, fakedd.SyntheticCPUProfile(5, 1, 20*time.Second), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"# @@README_WORKSPACE@@": readmeWorkspace(t, repo, tmp),
		"@@PPROF_URL@@":          pprofSrv.URL + "/debug/pprof/profile?seconds=1",
		"# @@README_WEIGHTS@@":   renameRepo(t, readmeSnippet(t, "weights"), "server_pgo", "weighted_pgo"),
		"# @@README_GO@@":        readmeGo(t),
		"# @@README_LIST@@":      renameRepo(t, readmeSnippet(t, "list"), "server_pgo", "list_pgo"),
	} {
		if !strings.Contains(text, k) {
			t.Fatalf("%s lacks %s", wsFile, k)
		}
		text = strings.ReplaceAll(text, k, v)
	}
	writeFile(t, wsFile, text)

	// pgofetch on PATH (for @server_pgo and @auto_pgo) only in pathBin.
	pathBin := filepath.Join(tmp, "pathbin")
	copyFile(t, pgofetch, filepath.Join(pathBin, "pgofetch"), 0o755)
	basePath := os.Getenv("PATH")
	if p, err := exec.LookPath("pgofetch"); err == nil {
		t.Fatalf("a pgofetch is on the test's PATH (%s): the CMake build case needs a PATH without one", p)
	}

	goCache := strings.TrimSpace(string(mustOutput(t, "go", "env", "GOCACHE")))
	home := filepath.Join(tmp, "home")
	os.MkdirAll(home, 0o755)
	// Flags for every command that builds; the workspace's .bazelrc holds
	// them (a per-command difference would discard Bazel's analysis cache).
	rc := strings.Join([]string{
		"build --color=no --curses=no --show_progress_rate_limit=60",
		"build --nosandbox_debug",
		"build --repo_env=SSL_CERT_FILE=" + caFile,
		"build --action_env=PATH",
		"build --action_env=HOME=" + home,
		"build --action_env=GOCACHE=" + goCache,
		"build --action_env=GOPATH=" + filepath.Join(tmp, "gopath"),
		"build --sandbox_writable_path=" + goCache,
		"sync --color=no --curses=no",
		"sync --repo_env=SSL_CERT_FILE=" + caFile,
		"",
	}, "\n")
	writeFile(t, filepath.Join(ws, ".bazelrc"), rc)

	// The keys reach pgofetch through a keys file, as bazel/README.md tells
	// users, never through Bazel's environment (Bazel logs its whole client
	// environment in java.log).
	keysFile := filepath.Join(tmp, "datadog-keys.env")
	writeKeys := func(api, app string) {
		t.Helper()
		text := fmt.Sprintf("# Datadog keys for pgofetch\nDD_API_KEY=%s\nexport DD_APP_KEY=\"%s\"\n", api, app)
		if err := os.WriteFile(keysFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKeys(apiKey, appKey)

	b := &bazelEnv{
		t:       t,
		bin:     bazelBin,
		ws:      ws,
		userDir: filepath.Join(tmp, "bazel"),
		env: map[string]string{
			"PATH":               pathBin + string(os.PathListSeparator) + basePath,
			"HOME":               home,
			"TMPDIR":             os.TempDir(),
			"PGOFETCH_KEYS_FILE": keysFile,
			"PGOFETCH_API_URL":   dd.URL(),
			"PGOFETCH_REFRESH":   "1",
		},
	}
	// Debian's Bazel finds its install base through its system rc, so that
	// one is read; the user's rc files are not.
	b.startup = []string{"--nohome_rc", "--output_user_root=" + b.userDir, "--max_idle_secs=300"}
	t.Cleanup(func() { b.run("shutdown") })

	ob := b.outputBase()
	batch := filepath.Join(ws, "bazel-bin", "batch")
	serverProfile := b.repoFile(ob, "server_pgo", "default.pgo")
	inProfile := b.repoFile(ob, "in_pgo", "default.pgo")
	var firstProfile, goodProfile []byte

	step := func(name string, f func(t *testing.T)) {
		if t.Failed() {
			t.Logf("not run: %s (an earlier step failed)", name)
			return
		}
		b.t = t
		t.Run(name, func(st *testing.T) {
			b.t = st
			f(st)
		})
		b.t = t
	}

	step("first build fetches and builds with -pgo", func(t *testing.T) {
		b.mustRun("build", "//:batch", "@in_pgo//:default.pgo", "@auto_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != 1 {
			t.Errorf("fake Datadog got %d gopgo requests, want 1", n)
		}
		p := parseProfile(t, serverProfile)
		for _, fn := range []string{"example.com/synthetic1.parse", "example.com/synthetic2.parse"} {
			if !hasFunction(p, fn) {
				t.Errorf("@server_pgo//:default.pgo lacks %s, a function of the served profiles", fn)
			}
		}
		firstProfile = readFile(t, serverProfile)
		if log := string(readFile(t, b.repoFile(ob, "server_pgo", "fetch.log"))); !strings.Contains(log, "(PATH)") {
			t.Errorf("@server_pgo did not use pgofetch from PATH; fetch.log:\n%s", log)
		}

		in := parseProfile(t, inProfile)
		if !hasFunction(in, "example.com/synthetic7.parse") {
			t.Error("@in_pgo//:default.pgo lacks the pprof endpoint's profile")
		}
		if !hasFunction(in, "DO NOT INLINE: google.golang.org/grpc/internal/transport.(*loopyWriter).processData") {
			t.Error("@in_pgo//:default.pgo lacks the file label's profile (grpc-anon, with its no-inline rename)")
		}
		if n := pprofHits.Load(); n != 1 {
			t.Errorf("pprof endpoint got %d requests, want 1", n)
		}
		if got := goBuildPGO(t, batch); got != "default.pgo" {
			t.Errorf("go version -m %s: -pgo=%q, want -pgo=default.pgo", batch, got)
		}
		out, err := exec.Command(batch, "-iterations", "50").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 16 {
			t.Errorf("the PGO build of batch does not run: %v\n%s", err, out)
		}
		parseProfile(t, b.repoFile(ob, "auto_pgo", "default.pgo"))
	})

	step("second build does not fetch again", func(t *testing.T) {
		before, binTime := gopgoRequests(t, dd), mtime(t, batch)
		out := b.mustRun("build", "//:batch", "@in_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != before {
			t.Errorf("a second build sent %d more gopgo requests, want none", n-before)
		}
		if n := pprofHits.Load(); n != 1 {
			t.Errorf("pprof endpoint got %d requests in all, want still 1", n)
		}
		if !mtime(t, batch).Equal(binTime) {
			t.Errorf("batch was rebuilt by a build with nothing changed:\n%s", out)
		}
	})

	step("rotating the keys does not fetch again", func(t *testing.T) {
		before := len(dd.Requests())
		writeKeys(rotatedAPIKey, rotatedAppKey)
		defer writeKeys(apiKey, appKey)
		b.mustRun("build", "//:batch")
		if n := len(dd.Requests()); n != before {
			t.Errorf("a key rotation made %d requests, want none", n-before)
		}
	})

	step("an unrelated variable does not fetch again", func(t *testing.T) {
		// CC, in each way Bazel 4 hands it to repository rules, each time
		// a new value. Only the profiles are built: --action_env rightly
		// reruns actions.
		targets := []string{"@server_pgo//:default.pgo", "@in_pgo//:default.pgo", "@auto_pgo//:default.pgo"}
		defer delete(b.env, "CC")
		for i, way := range []string{"--repo_env", "--action_env", "the client environment"} {
			cc := filepath.Join(tmp, fmt.Sprintf("cc-%d", i))
			args := []string{"build"}
			if strings.HasPrefix(way, "--") {
				args = append(args, way+"=CC="+cc)
			} else {
				b.env["CC"] = cc
			}
			before, hits := len(dd.Requests()), pprofHits.Load()
			b.mustRun(append(args, targets...)...)
			if n := len(dd.Requests()); n != before {
				t.Errorf("CC in %s made %d Datadog requests, want none", way, n-before)
			}
			if n := pprofHits.Load(); n != hits {
				t.Errorf("CC in %s fetched @in_pgo again (%d pprof requests)", way, n-hits)
			}
		}
	})

	step("changed profiles are not fetched without a refresh", func(t *testing.T) {
		dd.SetGeneration(1)
		before := gopgoRequests(t, dd)
		b.mustRun("build", "//:batch")
		if n := gopgoRequests(t, dd); n != before {
			t.Errorf("%d gopgo requests without a refresh, want none", n-before)
		}
		if !bytes.Equal(readFile(t, serverProfile), firstProfile) {
			t.Error("@server_pgo//:default.pgo changed without a refresh")
		}
	})

	step("bumping PGOFETCH_REFRESH fetches again and rebuilds", func(t *testing.T) {
		before, binTime := gopgoRequests(t, dd), mtime(t, batch)
		b.env["PGOFETCH_REFRESH"] = "2"
		b.mustRun("build", "//:batch", "@in_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("PGOFETCH_REFRESH bump: %d gopgo requests, want 1", n-before)
		}
		if n := pprofHits.Load(); n != 2 {
			t.Errorf("PGOFETCH_REFRESH bump: the pprof endpoint got %d requests in all, want 2", n)
		}
		parseProfile(t, serverProfile)
		if bytes.Equal(readFile(t, serverProfile), firstProfile) {
			t.Error("@server_pgo//:default.pgo is unchanged after a refresh with changed profiles")
		}
		if mtime(t, batch).Equal(binTime) {
			t.Error("batch was not rebuilt with the new profile")
		}
		if got := goBuildPGO(t, batch); got != "default.pgo" {
			t.Errorf("go version -m: -pgo=%q, want default.pgo", got)
		}
	})

	step("bazel sync --only fetches one repository again", func(t *testing.T) {
		before, hits := gopgoRequests(t, dd), pprofHits.Load()
		b.mustRun("sync", "--only=server_pgo")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("bazel sync --only=server_pgo: %d gopgo requests, want 1", n-before)
		}
		if n := pprofHits.Load(); n != hits {
			t.Errorf("bazel sync --only=server_pgo fetched @in_pgo too (%d pprof requests)", n-hits)
		}
		b.mustRun("build", "//:batch")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("the build after bazel sync fetched again (%d gopgo requests, want 1 in all)", n-before)
		}
	})

	step("update copies the profile into the source tree", func(t *testing.T) {
		dir := filepath.Join(ws, "cmd", "server")
		out := b.mustRun("run", "@server_pgo//:update", "--", "cmd/server")
		dest := filepath.Join(dir, "default.pgo")
		if !bytes.Equal(readFile(t, dest), readFile(t, serverProfile)) {
			t.Fatalf("cmd/server/default.pgo differs from @server_pgo//:default.pgo:\n%s", out)
		}
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		os.Chtimes(dest, old, old)
		out = b.mustRun("run", "@server_pgo//:update", "--", "cmd/server/default.pgo")
		if !strings.Contains(out, "unchanged") || !mtime(t, dest).Equal(old) {
			t.Errorf("an unchanged profile was rewritten (mtime %v, want %v):\n%s", mtime(t, dest), old, out)
		}
	})

	step("a refresh during an outage keeps the last good profile", func(t *testing.T) {
		goodProfile = readFile(t, serverProfile)
		binTime := mtime(t, batch)
		dd.SetOutage(true)
		b.env["PGOFETCH_REFRESH"] = "3"
		out := b.mustRun("build", "//:batch")
		if !bytes.Equal(readFile(t, serverProfile), goodProfile) {
			t.Errorf("@server_pgo//:default.pgo changed in an outage (%d bytes, want the %d of the last good one)",
				len(readFile(t, serverProfile)), len(goodProfile))
		}
		oneWarning(t, out, "server_pgo", "building with the last good profile")
		if log := string(readFile(t, b.repoFile(ob, "server_pgo", "fetch.log"))); !strings.Contains(log, "exit code: 3") {
			t.Errorf("fetch.log does not report pgofetch's exit code 3 (network):\n%s", log)
		}
		if !mtime(t, batch).Equal(binTime) {
			t.Error("batch was rebuilt, though its profile is the same bytes")
		}
		if got := goBuildPGO(t, batch); got != "default.pgo" {
			t.Errorf("go version -m: -pgo=%q, want default.pgo", got)
		}
	})

	step("a first fetch during an outage gives an empty profile", func(t *testing.T) {
		first := filepath.Join(ws, "bazel-bin", "batch_first")
		out := b.mustRun("build", "//:batch_first")
		if data := readFile(t, b.repoFile(ob, "first_pgo", "default.pgo")); len(data) != 0 {
			t.Errorf("@first_pgo//:default.pgo has %d bytes after a failed first fetch, want an empty file", len(data))
		}
		oneWarning(t, out, "first_pgo", "Go builds without PGO")
		if res, err := exec.Command(first, "-iterations", "50").CombinedOutput(); err != nil {
			t.Errorf("batch built without PGO does not run: %v\n%s", err, res)
		}
		// update refuses to replace a committed profile with an empty one.
		dest := filepath.Join(ws, "cmd", "server", "default.pgo")
		before := readFile(t, dest)
		out, ok := b.run("run", "@first_pgo//:update", "--", "cmd/server")
		if ok || !strings.Contains(out, "empty") || !bytes.Equal(readFile(t, dest), before) {
			t.Errorf("update with an empty profile: ok=%v, committed file kept=%v\n%s", ok, bytes.Equal(readFile(t, dest), before), out)
		}
	})

	step("fallback is used when there is no last good profile", func(t *testing.T) {
		out := b.mustRun("build", "@fallback_pgo//:default.pgo")
		if !bytes.Equal(readFile(t, b.repoFile(ob, "fallback_pgo", "default.pgo")), readFile(t, grpc)) {
			t.Error("@fallback_pgo//:default.pgo is not the fallback profile, byte for byte")
		}
		oneWarning(t, out, "fallback_pgo", "building with the fallback //profiles:grpc.pprof")
	})

	step("fail = True fails the build on an outage", func(t *testing.T) {
		out, ok := b.run("build", "//:batch_strict")
		if ok {
			t.Fatalf("the build passed with fail = True during an outage:\n%s", out)
		}
		if !strings.Contains(out, `pgofetch_profile(name = "strict_pgo")`) || !strings.Contains(out, "exit code 3") {
			t.Errorf("the failure does not name the repository and pgofetch's exit code:\n%s", out)
		}
		dd.SetOutage(false)
		b.env["PGOFETCH_REFRESH"] = "4"
		b.mustRun("build", "@strict_pgo//:default.pgo")
		parseProfile(t, b.repoFile(ob, "strict_pgo", "default.pgo"))
	})

	step("without keys the last good profile is kept", func(t *testing.T) {
		delete(b.env, "PGOFETCH_KEYS_FILE")
		defer func() { b.env["PGOFETCH_KEYS_FILE"] = keysFile }()
		b.env["PGOFETCH_REFRESH"] = "5"
		out := b.mustRun("build", "@server_pgo//:default.pgo")
		if !bytes.Equal(readFile(t, serverProfile), goodProfile) {
			t.Error("@server_pgo//:default.pgo is not the last good profile after a fetch without keys")
		}
		oneWarning(t, out, "server_pgo", "exit code 7: DD_API_KEY and DD_APP_KEY are not set (needed for QUERY arguments); name a keys file with PGOFETCH_KEYS_FILE")
		// A key in Bazel's own environment (not a marker: Bazel writes it
		// to java.log) draws a warning.
		b.env["DD_API_KEY"] = "not-a-key-bazel-env-check"
		defer delete(b.env, "DD_API_KEY")
		b.env["PGOFETCH_REFRESH"] = "6"
		out = b.mustRun("build", "@server_pgo//:default.pgo")
		if !strings.Contains(out, "DD_API_KEY is in Bazel's environment") {
			t.Errorf("no warning about DD_API_KEY in Bazel's environment:\n%s", out)
		}
	})

	step("a last good profile of other queries is not used", func(t *testing.T) {
		fallbackProfile := b.repoFile(ob, "fallback_pgo", "default.pgo")
		b.env["PGOFETCH_REFRESH"] = "7"
		b.mustRun("build", "@fallback_pgo//:default.pgo")
		if !hasFunction(parseProfile(t, fallbackProfile), "example.com/synthetic1.parse") {
			t.Fatal("@fallback_pgo did not fetch the served profile once the outage was over")
		}
		// Another query, during an outage: the last good profile is of
		// the old one, so the fallback is used.
		dd.SetOutage(true)
		defer dd.SetOutage(false)
		old := `queries = ["service:server env:prod"],
)

# A duration`
		text := string(readFile(t, wsFile))
		if strings.Count(text, old) != 1 {
			t.Fatalf("%s: cannot find @fallback_pgo's queries to change", wsFile)
		}
		writeFile(t, wsFile, strings.Replace(text, old, strings.Replace(old, "env:prod", "env:staging", 1), 1))
		out := b.mustRun("build", "@fallback_pgo//:default.pgo")
		if !bytes.Equal(readFile(t, fallbackProfile), readFile(t, grpc)) {
			t.Error("@fallback_pgo//:default.pgo is not the fallback after a failed fetch of new queries")
		}
		oneWarning(t, out, "fallback_pgo", "building with the fallback")
	})

	step("a bad duration fails with pgofetch's usage error", func(t *testing.T) {
		out, ok := b.run("build", "@bad_timeout_pgo//:default.pgo")
		if ok {
			t.Fatalf("timeout = \"ten seconds\" was accepted:\n%s", out)
		}
		if !strings.Contains(out, `pgofetch rejected its arguments: pgofetch: invalid value "ten seconds" for flag -timeout`) {
			t.Errorf("the failure does not carry pgofetch's usage error naming the value:\n%s", out)
		}
	})

	// byHand runs pgofetch by hand on README's query and the fake API.
	var byHand func(args ...string) []byte

	step("weights and normalize are pgofetch's -weight and -normalize", func(t *testing.T) {
		b.mustRun("build", "@weighted_pgo//:default.pgo")
		got := readFile(t, b.repoFile(ob, "weighted_pgo", "default.pgo"))
		// The oracle: pgofetch run by hand on the same sources (the same
		// paths, as its comments name them) and the same fake API.
		byHand = func(args ...string) []byte {
			t.Helper()
			dest := filepath.Join(t.TempDir(), "default.pgo")
			cmd := exec.Command(pgofetch, append(append([]string{"-fail"}, args...), "service:server env:prod", dest)...)
			cmd.Env = append(os.Environ(), "DD_API_KEY="+apiKey, "DD_APP_KEY="+appKey,
				"PGOFETCH_API_URL="+dd.URL(), "SSL_CERT_FILE="+caFile)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("pgofetch %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return readFile(t, dest)
		}
		if want := byHand("-normalize", "-weight", "0.2", "-in", bench, "-weight", "1"); !bytes.Equal(got, want) {
			t.Errorf("@weighted_pgo//:default.pgo (%d bytes) differs from pgofetch -normalize -weight 0.2 -in bench.pprof -weight 1 QUERY (%d bytes)", len(got), len(want))
		}
		if bytes.Equal(got, byHand("-in", bench)) {
			t.Error("@weighted_pgo//:default.pgo equals the unweighted merge: the weights changed nothing")
		}
		out, ok := b.run("build", "@bad_weight_pgo//:default.pgo")
		if ok || !strings.Contains(out, `pgofetch rejected its arguments: pgofetch: invalid value "heavy" for flag -weight`) {
			t.Errorf("weight \"heavy\": want the fetch to fail with pgofetch's usage error naming it, ok=%v:\n%s", ok, out)
		}
	})

	step("go names the go that builds: a newer one gets the full profile", func(t *testing.T) {
		b.mustRun("build", "@newgo_pgo//:default.pgo")
		got := readFile(t, b.repoFile(ob, "newgo_pgo", "default.pgo"))
		if !bytes.Equal(got, byHand("-trim=false")) {
			t.Errorf("@newgo_pgo//:default.pgo (%d bytes) is not what pgofetch -trim=false writes", len(got))
		}
		if bytes.Equal(got, byHand()) {
			t.Error("@newgo_pgo//:default.pgo equals the trimmed profile made for the installed go: go was not used")
		}
		log := string(readFile(t, b.repoFile(ob, "newgo_pgo", "fetch.log")))
		if lines := testenv.GrepLines(log, "writing the full profile"); !strings.Contains(lines, newGo) {
			t.Errorf("fetch.log does not say why the full profile was written (for %s):\n%s", newGo, log)
		}
	})

	step("list and package fetch the package's line of pgofetch.list", func(t *testing.T) {
		listProfile := b.repoFile(ob, "list_pgo", "default.pgo")
		before := gopgoRequests(t, dd)
		b.mustRun("build", "@list_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("@list_pgo sent %d gopgo requests, want 1 (cmd/server's query, not cmd/worker's)", n-before)
		}
		if got := readFile(t, listProfile); !bytes.Equal(got, byHand()) {
			t.Errorf("@list_pgo//:default.pgo (%d bytes) is not what pgofetch does by hand with cmd/server's query\n%s",
				len(got), readFile(t, b.repoFile(ob, "list_pgo", "fetch.log")))
		}
		// The list is a watched input: editing the line fetches again.
		text := string(readFile(t, listFile))
		line := "cmd/server  'service:server env:prod'"
		if !strings.Contains(text, line+"\n") {
			t.Fatalf("README's pgofetch.list has no line %q:\n%s", line, text)
		}
		writeFile(t, listFile, strings.Replace(text, line, line+" -profiles 1", 1))
		defer writeFile(t, listFile, text)
		before = gopgoRequests(t, dd)
		b.mustRun("build", "@list_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("editing pgofetch.list made %d gopgo requests, want 1", n-before)
		}
		if got := readFile(t, listProfile); !bytes.Equal(got, byHand("-profiles", "1")) {
			t.Errorf("@list_pgo//:default.pgo after the edit is not what pgofetch -profiles 1 does by hand")
		}
		// An outage keeps the line's last good profile.
		good := readFile(t, listProfile)
		dd.SetOutage(true)
		defer dd.SetOutage(false)
		b.env["PGOFETCH_REFRESH"] = "8"
		out := b.mustRun("build", "@list_pgo//:default.pgo")
		if !bytes.Equal(readFile(t, listProfile), good) {
			t.Error("@list_pgo//:default.pgo changed in an outage")
		}
		oneWarning(t, out, "list_pgo", "(pgofetch exit code 3: ")
	})

	step("rules_go's go tool preprofile takes what the rule writes", func(t *testing.T) {
		// rules_go since #4684 runs `go tool preprofile -i PROFILE -o OUT`
		// on pgoprofile (Go ≥ 1.23): the trimmed, the full and the empty
		// profile must pass it.
		for _, repo := range []string{"server_pgo", "auto_pgo", "first_pgo"} {
			out := filepath.Join(tmp, repo+".preprofile")
			if res, err := exec.Command("go", "tool", "preprofile", "-i", b.repoFile(ob, repo, "default.pgo"), "-o", out).CombinedOutput(); err != nil {
				t.Errorf("go tool preprofile on @%s//:default.pgo: %v\n%s", repo, err, res)
			} else if !bytes.HasPrefix(readFile(t, out), []byte("GO PREPROFILE V1\n")) {
				t.Errorf("go tool preprofile on @%s//:default.pgo wrote no GO PREPROFILE V1", repo)
			}
		}
		// Why the rule offers no preprocessed output: given one, that call
		// fails (the rules_go versions that do not pass it through).
		pre := filepath.Join(tmp, "grpc.preprofile")
		if res, err := exec.Command(pgofetch, "-fail", "-format=preprofile", "-in", grpc, pre).CombinedOutput(); err != nil {
			t.Fatalf("pgofetch -format=preprofile: %v\n%s", err, res)
		}
		if res, err := exec.Command("go", "tool", "preprofile", "-i", pre, "-o", pre+".again").CombinedOutput(); err == nil {
			t.Errorf("go tool preprofile took a preprocessed profile: bazel/README.md's reason for having no format attribute is stale\n%s", res)
		}
	})

	step("without pgofetch on PATH the rule builds it with CMake", func(t *testing.T) {
		b.env["PATH"] = basePath
		out := b.mustRun("sync", "--only=auto_pgo")
		log := string(readFile(t, b.repoFile(ob, "auto_pgo", "fetch.log")))
		if !strings.Contains(log, "(built by CMake in "+filepath.Join(home, ".cache", "pgofetch", "bazel")) {
			t.Errorf("@auto_pgo did not build pgofetch with CMake in the cache directory; fetch.log:\n%s\n%s", log, out)
		}
		parseProfile(t, b.repoFile(ob, "auto_pgo", "default.pgo"))
	})

	step("missing build dependencies are named", func(t *testing.T) {
		// pkg-config that finds nothing, as on a machine without
		// libzstd-dev and libcjson-dev, and a fresh cache directory (no
		// build, no last good profile).
		b.env["PKG_CONFIG_LIBDIR"] = filepath.Join(tmp, "no-pkgconfig")
		b.env["XDG_CACHE_HOME"] = filepath.Join(tmp, "fresh-cache")
		defer delete(b.env, "PKG_CONFIG_LIBDIR")
		defer delete(b.env, "XDG_CACHE_HOME")
		out := b.mustRun("sync", "--only=auto_pgo")
		oneWarning(t, out, "auto_pgo", "cannot build pgofetch: Package 'libzstd'")
		if data := readFile(t, b.repoFile(ob, "auto_pgo", "default.pgo")); len(data) != 0 {
			t.Errorf("@auto_pgo//:default.pgo has %d bytes without a pgofetch and a last good profile, want none", len(data))
		}
	})

	step("committed mode takes the checked-in profile and runs nothing", func(t *testing.T) {
		// README's committed snippet in place of its WORKSPACE snippet's
		// declaration: no BUILD file changes. No pgofetch on PATH (the
		// step above left it so), no keys, and the API down: nothing may
		// be needed.
		if b.env["PATH"] != basePath {
			t.Fatal("Bazel's PATH is not the test's, which has no pgofetch")
		}
		delete(b.env, "PGOFETCH_KEYS_FILE")
		dd.SetOutage(true)
		defer dd.SetOutage(false)
		before, hits := len(dd.Requests()), pprofHits.Load()
		fetchDecl := readmeDecl(t, "WORKSPACE")
		substitute(t, wsFile, map[string]string{fetchDecl: readmeDecl(t, "committed")})

		committed := filepath.Join(ws, "cmd", "server", "default.pgo")
		out := b.mustRun("build", "//:batch")
		if !bytes.Equal(readFile(t, serverProfile), readFile(t, committed)) {
			t.Error("@server_pgo//:default.pgo is not cmd/server/default.pgo, byte for byte")
		}
		if lines := testenv.GrepLines(out, `pgofetch_profile(name = "server_pgo")`); lines != "" {
			t.Errorf("committed mode printed about @server_pgo:\n%s", lines)
		}
		if log := string(readFile(t, b.repoFile(ob, "server_pgo", "fetch.log"))); !strings.Contains(log, "pgofetch was not run") {
			t.Errorf("fetch.log does not say pgofetch was not run:\n%s", log)
		}
		if got := goBuildPGO(t, batch); got != "default.pgo" {
			t.Errorf("go version -m: -pgo=%q, want default.pgo", got)
		}

		// A newly committed profile rebuilds the binary with it.
		binTime := mtime(t, batch)
		copyFile(t, grpc, committed, 0o644)
		b.mustRun("build", "//:batch")
		if !bytes.Equal(readFile(t, serverProfile), readFile(t, grpc)) {
			t.Error("after a new profile was committed, @server_pgo//:default.pgo is not it")
		}
		if mtime(t, batch).Equal(binTime) {
			t.Error("batch was not rebuilt after a new profile was committed")
		}
		if n := len(dd.Requests()); n != before || pprofHits.Load() != hits {
			t.Errorf("committed mode made %d Datadog and %d pprof requests, want none", n-before, pprofHits.Load()-hits)
		}

		// The list's package names the committed file too.
		b.mustRun("build", "@list_committed_pgo//:default.pgo")
		if !bytes.Equal(readFile(t, b.repoFile(ob, "list_committed_pgo", "default.pgo")), readFile(t, grpc)) {
			t.Error("@list_committed_pgo//:default.pgo is not cmd/server/default.pgo beside pgofetch.list")
		}
		out = b.mustRun("build", "@list_missing_pgo//:default.pgo")
		if data := readFile(t, b.repoFile(ob, "list_missing_pgo", "default.pgo")); len(data) != 0 {
			t.Errorf("@list_missing_pgo//:default.pgo has %d bytes with no cmd/worker/default.pgo committed, want none", len(data))
		}
		oneWarning(t, out, "list_missing_pgo", "no committed profile")

		out, ok := b.run("build", "@bad_mode_pgo//:default.pgo")
		lines := testenv.GrepLines(out, `mode "comitted" is neither "fetch" nor "committed"`)
		if ok || lines == "" {
			t.Errorf("mode = \"comitted\": want the fetch to fail with one line naming it, ok=%v:\n%s", ok, out)
		}
	})

	// Whatever happened above: no key anywhere Bazel or the rule wrote, or
	// Bazel printed.
	t.Run("the keys appear nowhere", func(t *testing.T) {
		b.t = t
		keys := []string{apiKey, appKey, rotatedAPIKey, rotatedAppKey}
		for _, k := range keys {
			if bytes.Contains(b.output.Bytes(), []byte(k)) {
				t.Errorf("Bazel's output holds a key (%.12s...)", k)
			}
		}
		var leaks []string
		seen := map[string]int{}
		for _, root := range []string{b.userDir, ws, home} {
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return nil
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return nil
				}
				name := d.Name()
				if strings.HasPrefix(name, "java.log") {
					name = "java.log"
				}
				seen[name]++
				for _, k := range keys {
					if bytes.Contains(data, []byte(k)) {
						leaks = append(leaks, p)
					}
				}
				return nil
			})
		}
		sort.Strings(leaks)
		if len(leaks) > 0 {
			t.Errorf("keys found in %d files under the output base, the workspace or the cache directory:\n%s", len(leaks), strings.Join(leaks, "\n"))
		}
		// The search must have read Bazel's logs, the repositories and the
		// rule's cache.
		for _, name := range []string{"java.log", "command.log", "fetch.log", "default.pgo", "last.pgo", "CMakeCache.txt"} {
			if seen[name] == 0 {
				t.Errorf("the search found no %s: it looked in the wrong place", name)
			}
		}
	})
}

// oneWarning checks that Bazel's output has exactly one line about the
// repository, and that it says want.
func oneWarning(t *testing.T, out, repo, want string) {
	t.Helper()
	lines := testenv.GrepLines(out, fmt.Sprintf(`pgofetch_profile(name = "%s")`, repo))
	n := 0
	if lines != "" {
		n = len(strings.Split(lines, "\n"))
	}
	if n != 1 || !strings.Contains(lines, "WARNING") || !strings.Contains(lines, want) {
		t.Errorf("want one warning line about @%s saying %q, got %d:\n%s\nall output:\n%s", repo, want, n, lines, out)
	}
}

// readmeDecl is the pgofetch_profile(...) declaration of a README snippet.
func readmeDecl(t *testing.T, snippet string) string {
	t.Helper()
	code := readmeSnippet(t, snippet)
	decl := regexp.MustCompile(`(?ms)^pgofetch_profile\(\n.*?^\)\n`).FindString(code)
	if decl == "" {
		t.Fatalf("README's %s snippet has no pgofetch_profile(...):\n%s", snippet, code)
	}
	return decl
}

// newGo is the fake go's GOVERSION, newer than any -trim is proven for.
const newGo = "go1.99"

// readmeGo is bazel/README.md's go snippet as @newgo_pgo, its go the fake
// //tools:go.
func readmeGo(t *testing.T) string {
	t.Helper()
	snippet := renameRepo(t, readmeSnippet(t, "go"), "server_pgo", "newgo_pgo")
	if !strings.Contains(snippet, `go = "@go_sdk//:bin/go",`) {
		t.Fatalf("README's go snippet names no @go_sdk//:bin/go:\n%s", snippet)
	}
	return strings.Replace(snippet, `"@go_sdk//:bin/go"`, `"//tools:go"`, 1)
}

// renameRepo is a README snippet declaring the repository from instead
// under the name to, so that it can sit beside the WORKSPACE snippet's.
func renameRepo(t *testing.T, snippet, from, to string) string {
	t.Helper()
	decl := fmt.Sprintf("name = %q,", from)
	if strings.Count(snippet, decl) != 1 {
		t.Fatalf("want one %s in the snippet:\n%s", decl, snippet)
	}
	return strings.Replace(snippet, decl, fmt.Sprintf("name = %q,", to), 1)
}

// readmeWorkspace is bazel/README.md's WORKSPACE snippet, its http_archive
// pointed at a tarball of this source tree made as a release would be.
func readmeWorkspace(t *testing.T, repo, tmp string) string {
	t.Helper()
	snippet := readmeSnippet(t, "WORKSPACE")
	m := regexp.MustCompile(`strip_prefix = "([^"]+)"`).FindStringSubmatch(snippet)
	if m == nil {
		t.Fatalf("README's WORKSPACE snippet has no strip_prefix:\n%s", snippet)
	}
	archive := filepath.Join(tmp, m[1]+".tar.gz")
	sum := sourceArchive(t, repo, m[1], archive)
	for re, v := range map[string]string{
		`sha256 = "[^"]*"`:  fmt.Sprintf("sha256 = %q", sum),
		`urls = \[[^\]]*\]`: fmt.Sprintf("urls = [%q]", "file://"+archive),
	} {
		r := regexp.MustCompile(re)
		if !r.MatchString(snippet) {
			t.Fatalf("README's WORKSPACE snippet has no %s:\n%s", re, snippet)
		}
		snippet = r.ReplaceAllLiteralString(snippet, v)
	}
	return snippet
}

// sourceArchive writes a .tar.gz of what a release of pgofetch holds for
// Bazel (its rules, its CMake build and pgo-compare) under prefix/, and returns its
// sha256.
func sourceArchive(t *testing.T, repo, prefix, dst string) string {
	t.Helper()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, sum))
	tw := tar.NewWriter(gz)
	for _, top := range []string{"CMakeLists.txt", "WORKSPACE.bazel", "MODULE.bazel", "bazel", "core", "cmake-module", "integrations/pgo-compare"} {
		err := filepath.WalkDir(filepath.Join(repo, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repo, p)
			hdr := &tar.Header{Name: prefix + "/" + filepath.ToSlash(rel), Mode: int64(info.Mode().Perm()), Size: info.Size(), ModTime: info.ModTime()}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err == nil {
				_, err = tw.Write(data)
			}
			return err
		})
		if err != nil {
			t.Fatalf("archiving %s: %v", top, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sum.Sum(nil))
}
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data := readFile(t, src)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustOutput(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

// bazelTempDir is a TempDir that Bazel may fill with read-only files and
// directories: they are made removable before TempDir's own cleanup
// (cleanups run last-registered first).
func bazelTempDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Cleanup(func() {
		filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return tmp
}
