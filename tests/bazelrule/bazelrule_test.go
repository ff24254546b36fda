// Package bazelrule tests the Bazel integration (bazel/) with a real Bazel:
// one test workspace (testdata/workspace) whose repositories are made by
// pgofetch_profile, against the fake Datadog API and -in sources, and a
// genrule that builds the example's cmd/batch with the host Go toolchain and
// -pgo=<the fetched profile>. The scenarios run in sequence on one Bazel
// server (its output base in the test's temporary directory), because each
// builds on the state the previous one left.
package bazelrule

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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

	tmp := t.TempDir()
	// Bazel leaves read-only files and directories; make them removable
	// before TempDir's cleanup (cleanups run last-registered first).
	t.Cleanup(func() {
		filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})

	// The fake Datadog API with two profiles of the example service.
	dd, err := fakedd.Start(fakedd.Options{APIKey: apiKey, AppKey: appKey, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dd.Close() })
	for i, seed := range []int{1, 2} {
		err := dd.AddProfile(fakedd.Profile{
			ID:      fmt.Sprintf("bazel-profile-%d", i),
			Data:    fakedd.SyntheticCPUProfile(seed, 1.5+float64(i), time.Minute),
			Service: "pgofetch-example",
			Tags:    []string{"env:test"},
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

	// The workspace: testdata/workspace, the example, the binary under test
	// and a real profile.
	ws := filepath.Join(tmp, "ws")
	testenv.CopyTree(t, filepath.Join("testdata", "workspace"), ws)
	testenv.CopyTree(t, testenv.Example(t), filepath.Join(ws, "example"))
	copyFile(t, pgofetch, filepath.Join(ws, "tools", "pgofetch"), 0o755)
	grpc := testenv.RealProfile(t)
	copyFile(t, grpc, filepath.Join(ws, "profiles", "grpc.pprof"), 0o644)
	wsFile := filepath.Join(ws, "WORKSPACE")
	text := string(readFile(t, wsFile))
	for k, v := range map[string]string{
		"@@PGOFETCH_REPO@@": repo,
		"@@API_URL@@":       dd.URL(),
		"@@PPROF_URL@@":     pprofSrv.URL + "/debug/pprof/profile?seconds=1",
	} {
		text = strings.ReplaceAll(text, k, v)
	}
	if err := os.WriteFile(wsFile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	// pgofetch on PATH (for @auto_pgo) only in pathBin.
	pathBin := filepath.Join(tmp, "pathbin")
	copyFile(t, pgofetch, filepath.Join(pathBin, "pgofetch"), 0o755)
	basePath := os.Getenv("PATH")
	if p, err := exec.LookPath("pgofetch"); err == nil {
		t.Fatalf("a pgofetch is on the test's PATH (%s): the build-from-source case needs a PATH without one", p)
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
	if err := os.WriteFile(filepath.Join(ws, ".bazelrc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}

	// The keys reach pgofetch through a keys file, never through Bazel's
	// environment (Bazel logs its whole client environment in java.log).
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
			"PGOFETCH_REFRESH":   "1",
		},
	}
	// Debian's Bazel finds its install base through its system rc, so that
	// one is read; the user's rc files are not.
	b.startup = []string{"--nohome_rc", "--output_user_root=" + b.userDir, "--max_idle_secs=300"}
	t.Cleanup(func() { b.run("shutdown") })

	ob := b.outputBase()
	batchDD := filepath.Join(ws, "bazel-bin", "batch_dd")
	ddProfile := b.repoFile(ob, "dd_pgo", "default.pgo")
	inProfile := b.repoFile(ob, "in_pgo", "default.pgo")
	var firstDD []byte

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
		b.mustRun("build", "//:batch_dd", "@in_pgo//:default.pgo", "@auto_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != 1 {
			t.Errorf("fake Datadog got %d gopgo requests, want 1", n)
		}
		p := parseProfile(t, ddProfile)
		for _, fn := range []string{"example.com/synthetic1.parse", "example.com/synthetic2.parse"} {
			if !hasFunction(p, fn) {
				t.Errorf("@dd_pgo//:default.pgo lacks %s, a function of the served profiles", fn)
			}
		}
		firstDD = readFile(t, ddProfile)

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
		if got := goBuildPGO(t, batchDD); got != "default.pgo" {
			t.Errorf("go version -m %s: -pgo=%q, want -pgo=default.pgo", batchDD, got)
		}
		out, err := exec.Command(batchDD, "-iterations", "50").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 16 {
			t.Errorf("the PGO build of batch does not run: %v\n%s", err, out)
		}
		if log := string(readFile(t, b.repoFile(ob, "auto_pgo", "fetch.log"))); !strings.Contains(log, "(PATH)") {
			t.Errorf("@auto_pgo did not use pgofetch from PATH; fetch.log:\n%s", log)
		}
		parseProfile(t, b.repoFile(ob, "auto_pgo", "default.pgo"))
	})

	step("second build does not fetch again", func(t *testing.T) {
		before, binTime := gopgoRequests(t, dd), mtime(t, batchDD)
		out := b.mustRun("build", "//:batch_dd", "@in_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != before {
			t.Errorf("a second build sent %d more gopgo requests, want none", n-before)
		}
		if n := pprofHits.Load(); n != 1 {
			t.Errorf("pprof endpoint got %d requests in all, want still 1", n)
		}
		if !mtime(t, batchDD).Equal(binTime) {
			t.Errorf("batch_dd was rebuilt by a build with nothing changed:\n%s", out)
		}
	})

	step("rotating the keys does not fetch again", func(t *testing.T) {
		before := gopgoRequests(t, dd)
		writeKeys(rotatedAPIKey, rotatedAppKey)
		defer writeKeys(apiKey, appKey)
		b.mustRun("build", "//:batch_dd")
		if n := len(dd.Requests()); n != before {
			t.Errorf("a key rotation made %d requests, want none", n-before)
		}
	})

	step("changed profiles are not fetched without a refresh", func(t *testing.T) {
		dd.SetGeneration(1)
		before := gopgoRequests(t, dd)
		b.mustRun("build", "//:batch_dd")
		if n := gopgoRequests(t, dd); n != before {
			t.Errorf("%d gopgo requests without a refresh, want none", n-before)
		}
		if !bytes.Equal(readFile(t, ddProfile), firstDD) {
			t.Error("@dd_pgo//:default.pgo changed without a refresh")
		}
	})

	step("bumping PGOFETCH_REFRESH fetches again and rebuilds", func(t *testing.T) {
		before, binTime := gopgoRequests(t, dd), mtime(t, batchDD)
		b.env["PGOFETCH_REFRESH"] = "2"
		b.mustRun("build", "//:batch_dd", "@in_pgo//:default.pgo")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("PGOFETCH_REFRESH bump: %d gopgo requests, want 1", n-before)
		}
		if n := pprofHits.Load(); n != 2 {
			t.Errorf("PGOFETCH_REFRESH bump: the pprof endpoint got %d requests in all, want 2", n)
		}
		parseProfile(t, ddProfile)
		if bytes.Equal(readFile(t, ddProfile), firstDD) {
			t.Error("@dd_pgo//:default.pgo is unchanged after a refresh with changed profiles")
		}
		if mtime(t, batchDD).Equal(binTime) {
			t.Error("batch_dd was not rebuilt with the new profile")
		}
		if got := goBuildPGO(t, batchDD); got != "default.pgo" {
			t.Errorf("go version -m: -pgo=%q, want default.pgo", got)
		}
	})

	step("bazel sync --only fetches one repository again", func(t *testing.T) {
		before, hits := gopgoRequests(t, dd), pprofHits.Load()
		b.mustRun("sync", "--only=dd_pgo")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("bazel sync --only=dd_pgo: %d gopgo requests, want 1", n-before)
		}
		if n := pprofHits.Load(); n != hits {
			t.Errorf("bazel sync --only=dd_pgo fetched @in_pgo too (%d pprof requests)", n-hits)
		}
		b.mustRun("build", "//:batch_dd")
		if n := gopgoRequests(t, dd); n != before+1 {
			t.Errorf("the build after bazel sync fetched again (%d gopgo requests, want 1 in all)", n-before)
		}
	})

	step("update copies the profile into the source tree", func(t *testing.T) {
		dir := filepath.Join(ws, "committed")
		os.MkdirAll(dir, 0o755)
		out := b.mustRun("run", "@dd_pgo//:update", "--", "committed")
		dest := filepath.Join(dir, "default.pgo")
		if !bytes.Equal(readFile(t, dest), readFile(t, ddProfile)) {
			t.Fatalf("committed/default.pgo differs from @dd_pgo//:default.pgo:\n%s", out)
		}
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		os.Chtimes(dest, old, old)
		out = b.mustRun("run", "@dd_pgo//:update", "--", "committed/default.pgo")
		if !strings.Contains(out, "unchanged") || !mtime(t, dest).Equal(old) {
			t.Errorf("an unchanged profile was rewritten (mtime %v, want %v):\n%s", mtime(t, dest), old, out)
		}
	})

	step("an outage gives an empty profile and a passing build", func(t *testing.T) {
		dd.SetOutage(true)
		b.env["PGOFETCH_REFRESH"] = "3"
		out := b.mustRun("build", "//:batch_dd")
		if data := readFile(t, ddProfile); len(data) != 0 {
			t.Errorf("@dd_pgo//:default.pgo has %d bytes after an outage, want an empty file", len(data))
		}
		if !strings.Contains(out, "WARNING") || !strings.Contains(out, `pgofetch_profile(name = "dd_pgo")`) {
			t.Errorf("no warning about the failed fetch:\n%s", out)
		}
		log := string(readFile(t, b.repoFile(ob, "dd_pgo", "fetch.log")))
		if !strings.Contains(log, "exit code: 3") {
			t.Errorf("fetch.log does not report pgofetch's exit code 3 (network):\n%s", log)
		}
		if res, err := exec.Command(batchDD, "-iterations", "50").CombinedOutput(); err != nil {
			t.Errorf("batch built without PGO does not run: %v\n%s", err, res)
		}
		// update refuses to replace a committed profile with an empty one.
		dest := filepath.Join(ws, "committed", "default.pgo")
		before := readFile(t, dest)
		out, ok := b.run("run", "@dd_pgo//:update", "--", "committed")
		if ok || !strings.Contains(out, "empty") || !bytes.Equal(readFile(t, dest), before) {
			t.Errorf("update with an empty profile: ok=%v, committed file kept=%v\n%s", ok, bytes.Equal(readFile(t, dest), before), out)
		}
	})

	step("fail = True fails the build on an outage", func(t *testing.T) {
		out, ok := b.run("build", "//:batch_strict")
		if ok {
			t.Fatalf("the build passed with fail = True during an outage:\n%s", out)
		}
		if !strings.Contains(out, `pgofetch_profile(name = "dd_pgo_strict")`) || !strings.Contains(out, "exit code 3") {
			t.Errorf("the failure does not name the repository and pgofetch's exit code:\n%s", out)
		}
		dd.SetOutage(false)
		b.env["PGOFETCH_REFRESH"] = "4"
		b.mustRun("build", "@dd_pgo_strict//:default.pgo")
		parseProfile(t, b.repoFile(ob, "dd_pgo_strict", "default.pgo"))
	})

	step("without keys the fetch fails open", func(t *testing.T) {
		delete(b.env, "PGOFETCH_KEYS_FILE")
		defer func() { b.env["PGOFETCH_KEYS_FILE"] = keysFile }()
		b.env["PGOFETCH_REFRESH"] = "5"
		b.mustRun("build", "@dd_pgo//:default.pgo")
		if data := readFile(t, ddProfile); len(data) != 0 {
			t.Errorf("@dd_pgo//:default.pgo has %d bytes without keys, want an empty file", len(data))
		}
		if log := string(readFile(t, b.repoFile(ob, "dd_pgo", "fetch.log"))); !strings.Contains(log, "exit code: 7") {
			t.Errorf("fetch.log does not report pgofetch's exit code 7 (keys):\n%s", log)
		}
		// A key in Bazel's own environment (not a marker: Bazel writes it
		// to java.log) draws a warning.
		b.env["DD_API_KEY"] = "not-a-key-bazel-env-check"
		defer delete(b.env, "DD_API_KEY")
		b.env["PGOFETCH_REFRESH"] = "6"
		out := b.mustRun("build", "@dd_pgo//:default.pgo")
		if !strings.Contains(out, "DD_API_KEY is in Bazel's environment") {
			t.Errorf("no warning about DD_API_KEY in Bazel's environment:\n%s", out)
		}
	})

	step("format = preprofile", func(t *testing.T) {
		// Whether this pgofetch writes Go's preprocessed profile decides
		// what the rule must do: use it, or refuse clearly.
		probe := exec.Command(pgofetch, "-format=preprofile", "-in", grpc, filepath.Join(tmp, "probe.preprofile"))
		probeOut, err := probe.CombinedOutput()
		supported := err == nil
		out, ok := b.run("build", "@pre_pgo//:profile", "@pre_pgo//:default.pgo")
		if !supported {
			t.Logf("this pgofetch does not write -format preprofile (%s): checking that the rule refuses it clearly", bytes.TrimSpace(probeOut))
			if ok || !strings.Contains(out, `format = "preprofile"`) || !strings.Contains(out, "refused -format preprofile") {
				t.Errorf("format = \"preprofile\" with a pgofetch that lacks it: ok=%v, want a failure that says so:\n%s", ok, out)
			}
			return
		}
		if !ok {
			t.Fatalf("bazel build @pre_pgo//:profile failed:\n%s", out)
		}
		pre := readFile(t, b.repoFile(ob, "pre_pgo", "default.preprofile"))
		if !bytes.HasPrefix(pre, []byte("GO PREPROFILE V1\n")) {
			t.Errorf("@pre_pgo//:default.preprofile does not start with GO PREPROFILE V1: %q", pre[:min(len(pre), 40)])
		}
		parseProfile(t, b.repoFile(ob, "pre_pgo", "default.pgo"))
		if build := string(readFile(t, b.repoFile(ob, "pre_pgo", "BUILD.bazel"))); !strings.Contains(build, `actual = ":default.preprofile"`) {
			t.Errorf(":profile is not the preprocessed file:\n%s", build)
		}
	})

	step("without pgofetch on PATH the rule builds it from source", func(t *testing.T) {
		b.env["PATH"] = basePath
		out := b.mustRun("sync", "--only=auto_pgo")
		log := string(readFile(t, b.repoFile(ob, "auto_pgo", "fetch.log")))
		if !strings.Contains(log, "(built from source)") {
			t.Errorf("@auto_pgo did not build pgofetch from source; fetch.log:\n%s\n%s", log, out)
		}
		if _, err := os.Stat(b.repoFile(ob, "auto_pgo", "_tool/pgofetch")); err != nil {
			t.Error(err)
		}
		parseProfile(t, b.repoFile(ob, "auto_pgo", "default.pgo"))
	})

	step("missing build dependencies are named", func(t *testing.T) {
		// A compiler that cannot find zstd.h, as on a machine without
		// libzstd-dev. CC is in the rule's environ: changing it refetches.
		cc := filepath.Join(tmp, "cc-without-zstd")
		script := "#!/bin/sh\nfor a in \"$@\"; do case $a in *probe_zstd*) echo \"$a: fatal error: zstd.h: No such file or directory\" >&2; exit 1;; esac; done\nexec cc \"$@\"\n"
		if err := os.WriteFile(cc, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		b.env["CC"] = cc
		defer delete(b.env, "CC")
		out, ok := b.run("build", "@auto_pgo//:default.pgo")
		if ok {
			t.Fatalf("the build passed without zstd:\n%s", out)
		}
		for _, want := range []string{"build dependencies are missing: zstd", "libzstd-dev"} {
			if !strings.Contains(out, want) {
				t.Errorf("the failure does not say %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "libcurl4-openssl-dev") {
			t.Errorf("the failure names libcurl, which is present:\n%s", out)
		}
	})

	// Whatever happened above: no key anywhere Bazel wrote or printed.
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
		for _, root := range []string{b.userDir, ws} {
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
			t.Errorf("keys found in %d files under the output base or workspace:\n%s", len(leaks), strings.Join(leaks, "\n"))
		}
		// The search must have read Bazel's logs and the repositories.
		for _, name := range []string{"java.log", "command.log", "fetch.log", "default.pgo"} {
			if seen[name] == 0 {
				t.Errorf("the search found no %s: it looked in the wrong place", name)
			}
		}
	})
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

func mustOutput(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}
