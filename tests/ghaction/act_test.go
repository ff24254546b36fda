package ghaction

// The action under a real runner: nektos/act in host mode, offline, runs
// the example workflows of .github/workflows (the ones
// github-action/README.md shows) against the fake Datadog API
// (tests/fakedd). Every action they use is mapped to a stand-in of
// stubs/; the cache stand-in really keeps entries between runs. A step
// appended to each workflow records its steps' outputs and what the job
// left (the profile, the binary built) for the checks.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"gopkg.in/yaml.v3"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

const (
	actTool  = "github.com/nektos/act@v0.2.89"
	service  = "pgofetch-example"
	destPath = "integrations/example/cmd/server/default.pgo"
)

// The workflows README shows: best effort, and must have a fresh profile.
// And what the profile buys (compare).
var exampleWorkflows = []string{"example-pgo.yml", "example-pgo-required.yml", "example-pgo-compare.yml"}

// refreshWorkflow is a template to copy, not a workflow of this
// repository: it would open pull requests here on its schedule.
const refreshWorkflow = "github-action/examples/refresh-profiles.yml"

// stubOwners: whose actions have a stand-in in stubs/ (named by repo).
var stubOwners = map[string]bool{"actions": true, "peter-evans": true}

// recordStep is appended to a workflow's (last) job: it writes every step's
// outputs and outcome, and copies what the job built, for the test.
const recordStep = `
      - name: Record for the test
        if: always()
        env:
          STEPS: ${{ toJSON(steps) }}
          PROBE: ${{ secrets.PGOFETCH_TEST_PROBE }}
        run: |
          echo "secret probe: $PROBE"
          printf '%s' "$STEPS" >"$PGOFETCH_TEST_RECORD/steps.json"
          if [ -f "$RUNNER_TEMP/server" ]; then cp "$RUNNER_TEMP/server" "$PGOFETCH_TEST_RECORD/server"; fi
          if [ -f ` + destPath + ` ]; then cp -p ` + destPath + ` "$PGOFETCH_TEST_RECORD/default.pgo"; fi
`

const secretProbe = "probe-6c1f0e9a"

// world is what outlives one job: the repository act runs in, the cache
// stand-in's entries, a private HOME, and the fake API.
type world struct {
	t     *testing.T
	act   string
	repo  string
	cache string
	home  string
	srv   *fakedd.Server
	ca    string
	maps  []string // --local-repository arguments
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, act: testenv.GoTool(t, actTool), home: t.TempDir()}
	w.repo = snapshotRepo(t, nil)
	w.cache = filepath.Join(t.TempDir(), "cache")
	w.maps = stubMappings(t)
	srv, err := fakedd.Start(fakedd.Options{Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w.srv = srv
	w.serve(defaultProfiles(t)...)
	w.ca = filepath.Join(w.home, "ca.pem")
	if err := os.WriteFile(w.ca, srv.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// defaultProfiles: what the fake serves the example's query and another.
func defaultProfiles(t *testing.T) []fakedd.Profile {
	grpc, err := os.ReadFile(testenv.RealProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	return []fakedd.Profile{
		{ID: "prof-a1", Service: service, Data: fakedd.SyntheticCPUProfile(1, 3.5, time.Minute)},
		{ID: "prof-grpc", Service: service, Data: grpc},
		{ID: "other-svc", Service: "other", Data: fakedd.SyntheticCPUProfile(3, 9, time.Minute)},
	}
}

// serve makes the fake serve these profiles alone.
func (w *world) serve(profiles ...fakedd.Profile) {
	w.srv.ClearProfiles()
	for _, p := range profiles {
		if err := w.srv.AddProfile(p); err != nil {
			w.t.Fatal(err)
		}
	}
}

// servedIDs: the ids the fake answers the service's query with, most CPU
// cores first (the real profile, 6.6 cores, then prof-a1, 3.5).
var servedIDs = []string{"prof-grpc", "prof-a1"}

// snapshotRepo copies the repository's files (tracked, and untracked but
// not ignored; not tests/) into a new git repository, as a checkout, with
// extra files added.
func snapshotRepo(t *testing.T, extra map[string][]byte) string {
	t.Helper()
	root := testenv.RepoRoot(t)
	dst := filepath.Join(t.TempDir(), "repo")
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("listing the repository's files: %v", err)
	}
	files := map[string][]byte{}
	modes := map[string]os.FileMode{}
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" || strings.HasPrefix(rel, "tests/") {
			continue
		}
		info, err := os.Stat(filepath.Join(root, rel))
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree
		}
		if files[rel], err = os.ReadFile(filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
		modes[rel] = info.Mode().Perm()
	}
	for rel, data := range extra {
		files[rel], modes[rel] = data, 0o644
	}
	for rel, data := range files {
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, modes[rel]); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dst, "init", "-q")
	git(t, dst, "add", "-A")
	git(t, dst, "commit", "-q", "-m", "snapshot")
	return dst
}

// git runs git in dir, as a committer of its own.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// stubMappings maps every owner/repo@ref the example workflows and the
// action use to its stand-in; one without a stand-in fails the test.
func stubMappings(t *testing.T) []string {
	t.Helper()
	root := testenv.RepoRoot(t)
	stubs := filepath.Join(root, "tests", "ghaction", "stubs")
	files := []string{filepath.Join(root, "github-action", "action.yml")}
	for _, wf := range exampleWorkflows {
		files = append(files, filepath.Join(root, ".github", "workflows", wf))
	}
	files = append(files, filepath.Join(root, refreshWorkflow))
	testdata, _ := filepath.Glob(filepath.Join(root, "tests", "ghaction", "testdata", "*.yml"))
	files = append(files, testdata...)
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*([\w.-]+)/([\w.-]+)(?:/[\w./-]+)?@([\w.-]+)`)
	seen := map[string]bool{}
	var maps []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(data), -1) {
			ref := m[1] + "/" + m[2] + "@" + m[3]
			if seen[ref] {
				continue
			}
			seen[ref] = true
			dir := filepath.Join(stubs, m[2])
			if _, err := os.Stat(filepath.Join(dir, "action.yml")); !stubOwners[m[1]] || err != nil {
				t.Fatalf("%s uses %s, which has no stand-in in %s", f, ref, stubs)
			}
			maps = append(maps, "--local-repository", ref+"="+dir)
		}
	}
	return maps
}

// job is one act run of a workflow.
type job struct {
	code    int
	log     string // act's output
	text    string // its messages, decoded
	summary string // the job summaries written
	steps   map[string]stepRecord
	record  string // what the record step copied
}

type stepRecord struct {
	Outputs    map[string]string `json:"outputs"`
	Outcome    string            `json:"outcome"`
	Conclusion string            `json:"conclusion"`
}

type jobOpts struct {
	workflow string // a file of .github/workflows, or testdata/..., or github-action/...
	job      string // the job to run (default build)
	repo     string // the repository to run in (default w.repo)
	path     string // PATH (default the caller's)
	noKeys   bool
}

// run runs the workflow's job "build" under act and reads what it did.
func (w *world) run(o jobOpts) *job {
	t := w.t
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), ".github", "workflows", o.workflow)
	if strings.HasPrefix(o.workflow, "testdata/") {
		src = filepath.Join(testenv.RepoRoot(t), "tests", "ghaction", o.workflow)
	} else if strings.HasPrefix(o.workflow, "github-action/") {
		src = filepath.Join(testenv.RepoRoot(t), o.workflow)
	}
	jobName := o.job
	if jobName == "" {
		jobName = "build"
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	wfDir := t.TempDir()
	wf := filepath.Join(wfDir, "workflow.yml")
	recorded := strings.TrimRight(string(data), "\n") + "\n" + recordStep
	checkAppended(t, string(data), recorded)
	if err := os.WriteFile(wf, []byte(recorded), 0o644); err != nil {
		t.Fatal(err)
	}
	record := t.TempDir()
	secrets := filepath.Join(wfDir, "secrets")
	// A secret the record step prints: act's log must show it, or
	// masking would hide a leaked key from noKeys.
	keys := "PGOFETCH_TEST_PROBE=" + secretProbe + "\n"
	if !o.noKeys {
		keys += "DD_API_KEY=" + w.srv.APIKey() + "\nDD_APP_KEY=" + w.srv.AppKey() + "\n"
	}
	if err := os.WriteFile(secrets, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := o.repo
	if repo == "" {
		repo = w.repo
	}
	path := o.path
	if path == "" {
		path = os.Getenv("PATH")
	}
	missing := filepath.Join(wfDir, "none")
	args := []string{"workflow_dispatch", "-W", wf, "-j", jobName, "-C", repo,
		"-P", "ubuntu-24.04=-self-hosted", "--action-offline-mode", "--no-cache-server",
		"--action-cache-path", filepath.Join(w.home, "act"), "--secret-file", secrets,
		"--env-file", missing, "--var-file", missing, "--input-file", missing,
		// Secrets shown as they are, so that masking hides no leak.
		"--insecure-secrets", "--json"}
	args = append(args, w.maps...)
	cmd := exec.Command(w.act, args...)
	cmd.Dir = repo
	goEnv := func(name string) string {
		out, _ := exec.Command("go", "env", name).Output()
		return strings.TrimSpace(string(out))
	}
	// Host mode passes act's environment to every step: only what the
	// job needs, no key, a private HOME; Go's caches shared with the
	// caller's (the example's build is then quick), its proxy off.
	cmd.Env = []string{
		"HOME=" + w.home, "PATH=" + path, "LANG=C.UTF-8", "USER=runner",
		"GOCACHE=" + goEnv("GOCACHE"), "GOMODCACHE=" + goEnv("GOMODCACHE"), "GOPROXY=off",
		"GOTOOLCHAIN=local", "GOFLAGS=", "SSL_CERT_FILE=" + w.ca, "PGOFETCH_API_URL=" + w.srv.URL(),
		"PGOFETCH_TEST_CACHE=" + w.cache, "PGOFETCH_TEST_RECORD=" + record,
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	j := &job{log: out.String(), record: record}
	if ee, ok := err.(*exec.ExitError); ok {
		j.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running act: %v", err)
	}
	j.parseLog()
	t.Logf("%s: act exit %d\n%s", o.workflow, j.code, grepLines(j.text, "Success - ", "Failure - "))
	if data, err := os.ReadFile(filepath.Join(record, "steps.json")); err != nil {
		t.Fatalf("act ran no record step (exit %d):\n%s", j.code, tail(j.text, 60))
	} else if err := json.Unmarshal(data, &j.steps); err != nil {
		t.Fatalf("steps.json: %v\n%s", err, data)
	}
	w.noKeys(j)
	return j
}

// checkAppended: the record step extends the workflow's last job, and
// nothing else changes.
func checkAppended(t *testing.T, orig, recorded string) {
	t.Helper()
	count := func(s string) (jobs, steps int) {
		var wf struct {
			Jobs map[string]struct {
				Steps []map[string]any `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(s), &wf); err != nil {
			t.Fatalf("workflow: %v", err)
		}
		for _, j := range wf.Jobs {
			steps += len(j.Steps)
		}
		return len(wf.Jobs), steps
	}
	j1, s1 := count(orig)
	j2, s2 := count(recorded)
	if j1 != 1 || j2 != 1 || s2 != s1+1 {
		t.Fatalf("the record step does not extend the workflow's one job (%d/%d jobs, %d/%d steps)", j1, j2, s1, s2)
	}
}

// parseLog reads act's --json log: the messages, and the summaries.
func (j *job) parseLog() {
	var text strings.Builder
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(j.log))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m struct {
			Msg     string `json:"msg"`
			Command string `json:"command"`
			Content string `json:"content"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			text.WriteString(sc.Text() + "\n")
			continue
		}
		text.WriteString(m.Msg + "\n")
		if m.Command == "summary" && !seen[m.Content] { // act logs a summary more than once
			seen[m.Content] = true
			j.summary += m.Content
		}
	}
	j.text = text.String()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// noKeys: neither key appears in act's log (secrets shown unmasked), in
// what the job left, or in the cache entries; and they reached the API
// when the job had them.
func (w *world) noKeys(j *job) {
	t := w.t
	t.Helper()
	keys := []string{w.srv.APIKey(), w.srv.AppKey()}
	check := func(what string, data []byte) {
		for _, k := range keys {
			if bytes.Contains(data, []byte(k)) {
				t.Errorf("%s holds a Datadog key", what)
			}
		}
	}
	check("act's log", []byte(j.log))
	if !strings.Contains(j.text, "secret probe: "+secretProbe) {
		t.Errorf("act masks secrets: a leaked key would not show in its log")
	}
	for _, dir := range []string{j.record, w.cache, filepath.Join(w.home, "act")} {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				data, _ := os.ReadFile(p)
				check(p, data)
			}
			return nil
		})
	}
}

func (j *job) outputs(t *testing.T, step string) map[string]string {
	t.Helper()
	s, ok := j.steps[step]
	if !ok {
		t.Fatalf("no step %q recorded:\n%s", step, tail(j.text, 60))
	}
	for _, k := range allOutputs { // every one, whatever the outcome
		if _, ok := s.Outputs[k]; !ok {
			t.Errorf("output %s is not set (outputs: %v)", k, s.Outputs)
		}
	}
	return s.Outputs
}

// want checks outputs; "*" means non-empty.
func want(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("output %s is not set (outputs: %v)", k, got)
		case v == "*" && g == "":
			t.Errorf("output %s is empty", k)
		case v != "*" && g != v:
			t.Errorf("output %s = %q, want %q", k, g, v)
		}
	}
}

// allOutputs: the action's outputs are all set, whatever the outcome.
var allOutputs = []string{"outcome", "path", "samples", "bytes", "profile-ids", "debug-query", "changed", "fallback", "error"}

// insightOutputs: those of compare and check, empty when they are off.
var insightOutputs = []string{"matched", "top-missing", "payoff"}

// refreshOutputs: those of refresh alone.
var refreshOutputs = []string{"diff"}

func (j *job) requireGreen(t *testing.T) {
	t.Helper()
	if j.code != 0 {
		t.Fatalf("the job failed (act exit %d):\n%s", j.code, tail(j.text, 80))
	}
}

// checkProfile: the profile the job left is a valid profile that the
// outputs describe, and the binary it built is PGO-built with it.
func checkProfile(t *testing.T, j *job, out map[string]string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(j.record, "default.pgo"))
	if err != nil {
		t.Fatalf("the job left no %s: %v", destPath, err)
	}
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("%s is not a valid profile: %v", destPath, err)
	}
	if out["samples"] != fmt.Sprint(len(p.Sample)) || out["bytes"] != fmt.Sprint(len(data)) {
		t.Errorf("outputs samples=%s bytes=%s; the file has %d samples, %d bytes",
			out["samples"], out["bytes"], len(p.Sample), len(data))
	}
	bin := filepath.Join(j.record, "server")
	mod, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m of the binary the job built: %v\n%s", err, mod)
	}
	if !regexp.MustCompile(`(?m)^\s+build\s+-pgo=\S*` + regexp.QuoteMeta(destPath) + `$`).Match(mod) {
		t.Errorf("the binary is not built with %s:\n%s", destPath, mod)
	}
	return data
}

func TestActionUnderAct(t *testing.T) {
	w := newWorld(t)
	var first []byte

	t.Run("happy path builds pgofetch", func(t *testing.T) {
		w.t = t
		j := w.run(jobOpts{workflow: "example-pgo.yml"})
		j.requireGreen(t)
		if !strings.Contains(j.text, "pgofetch: building from") || !strings.Contains(j.text, "pgofetch: built pgofetch") {
			t.Errorf("pgofetch was not built from the action's source:\n%s", tail(j.text, 60))
		}
		out := j.outputs(t, "pgo")
		want(t, out, map[string]string{"outcome": "written", "path": destPath, "changed": "true",
			"fallback": "false", "error": "", "profile-ids": strings.Join(servedIDs, " "),
			"debug-query": "profile-id:(" + strings.Join(servedIDs, " OR ") + ")"})
		want(t, out, map[string]string{"samples": "*", "bytes": "*"})
		first = checkProfile(t, j, out)
		for _, s := range []string{"### pgofetch: `" + destPath + "`", "| result | wrote a new profile |",
			"| debug query | `profile-id:(prof-grpc OR prof-a1)` |", "| profiles merged | 2 |"} {
			if !strings.Contains(j.summary, s) {
				t.Errorf("the job summary lacks %q:\n%s", s, j.summary)
			}
		}
		// The cache holds the binary with the libraries it links (A2):
		// extracted elsewhere, its libcjson resolves to its own copy.
		entries := cacheEntries(t, w.cache)
		if len(entries["pgofetch-bin-"]) != 1 || len(entries["pgofetch-pgo-"]) != 1 {
			t.Fatalf("cache entries after the first run: %v", entries)
		}
		dir := t.TempDir()
		untar(t, entries["pgofetch-bin-"][0], dir)
		binDir := filepath.Join(dir, ".pgofetch", "bin")
		ldd := exec.Command("ldd", filepath.Join(binDir, "libexec", "pgofetch"))
		ldd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(binDir, "lib"))
		lout, err := ldd.CombinedOutput()
		if err != nil || !strings.Contains(string(lout), filepath.Join(binDir, "lib", "libcjson.so")) {
			t.Errorf("the cached binary's libcjson does not come from the cache entry (%v):\n%s", err, lout)
		}
		if v, err := exec.Command(filepath.Join(binDir, "pgofetch"), "-version").CombinedOutput(); err != nil ||
			!strings.HasPrefix(string(v), "pgofetch ") {
			t.Errorf("the cached pgofetch does not run where it was extracted: %v\n%s", err, v)
		}
	})
	if first == nil {
		t.Fatal("the happy path failed; the other scenarios build on it")
	}

	t.Run("cache hit on a second run", func(t *testing.T) {
		w.t = t
		j := w.run(jobOpts{workflow: "example-pgo.yml"})
		j.requireGreen(t)
		if strings.Contains(j.text, "pgofetch: building from") {
			t.Errorf("pgofetch was built again despite the cache")
		}
		if !regexp.MustCompile(`pgofetch: using the cached binary: pgofetch \d+\.\d+\.\d+ \(libcurl`).MatchString(j.text) {
			t.Errorf("no -version check of the cached binary in the log:\n%s", tail(j.text, 60))
		}
		out := j.outputs(t, "pgo")
		want(t, out, map[string]string{"outcome": "unchanged", "path": destPath, "changed": "false",
			"fallback": "false", "error": "", "profile-ids": strings.Join(servedIDs, " ")})
		if got := checkProfile(t, j, out); !bytes.Equal(got, first) {
			t.Errorf("the same profiles gave another file")
		}
		if n := len(cacheEntries(t, w.cache)["pgofetch-pgo-"]); n != 1 {
			t.Errorf("an unchanged profile was saved again: %d entries", n)
		}
	})

	t.Run("max-age: the restored profile keeps its age", func(t *testing.T) {
		w.t = t
		w.srv.ResetRequests()
		j := w.run(jobOpts{workflow: "testdata/max-age.yml"})
		j.requireGreen(t)
		out := j.outputs(t, "pgo")
		want(t, out, map[string]string{"outcome": "skipped", "path": destPath, "changed": "false",
			"fallback": "false", "error": "", "profile-ids": strings.Join(servedIDs, " ")})
		if got, _ := os.ReadFile(filepath.Join(j.record, "default.pgo")); !bytes.Equal(got, first) {
			t.Errorf("the profile in place is not the last good one")
		}
		if n := len(w.srv.Requests()); n != 0 {
			t.Errorf("%d requests to the API within max-age", n)
		}
	})

	t.Run("a cached binary that does not run is built again", func(t *testing.T) {
		w.t = t
		saved := w.cache
		w.cache = filepath.Join(t.TempDir(), "cache")
		defer func() { w.cache = saved }()
		os.MkdirAll(w.cache, 0o755)
		bin := cacheEntries(t, saved)["pgofetch-bin-"][0]
		retar(t, bin, filepath.Join(w.cache, filepath.Base(bin)), ".pgofetch/bin/libexec/pgofetch",
			[]byte("#!/bin/sh\necho 'error while loading shared libraries: libcjson.so.1' >&2\nexit 127\n"))
		j := w.run(jobOpts{workflow: "example-pgo.yml"})
		j.requireGreen(t)
		for _, s := range []string{"pgofetch: the cached binary does not run (error while loading shared libraries: libcjson.so.1): building it again",
			"pgofetch: built pgofetch"} {
			if !strings.Contains(j.text, s) {
				t.Errorf("the log lacks %q:\n%s", s, tail(j.text, 60))
			}
		}
		want(t, j.outputs(t, "pgo"), map[string]string{"outcome": "written", "path": destPath, "fallback": "false"})
	})

	t.Run("outage keeps the last good profile from the cache", func(t *testing.T) {
		w.t = t
		w.srv.SetOutage(true)
		defer w.srv.SetOutage(false)
		j := w.run(jobOpts{workflow: "example-pgo.yml"})
		j.requireGreen(t)
		out := j.outputs(t, "pgo")
		want(t, out, map[string]string{"outcome": "failed", "path": destPath, "changed": "false",
			"fallback": "true", "error": "*", "profile-ids": strings.Join(servedIDs, " ")})
		if got := checkProfile(t, j, out); !bytes.Equal(got, first) {
			t.Errorf("the profile used is not the last good one, byte for byte")
		}
		for _, s := range []string{"no fresh profile: " + out["error"] + "; using " + destPath + " from the Actions cache"} {
			if !strings.Contains(j.text, s) || !strings.Contains(j.summary, s) {
				t.Errorf("the warning and the summary should say %q:\nsummary: %s", s, j.summary)
			}
		}
	})

	t.Run("outage with fail true fails the job", func(t *testing.T) {
		w.t = t
		w.srv.SetOutage(true)
		defer w.srv.SetOutage(false)
		j := w.run(jobOpts{workflow: "example-pgo-required.yml"})
		if j.code == 0 {
			t.Fatalf("the job is green:\n%s", tail(j.text, 40))
		}
		if s := j.steps["pgo"]; s.Outcome != "failure" {
			t.Errorf("the action's step: %+v, want a failure", s)
		}
		want(t, j.outputs(t, "pgo"), map[string]string{"outcome": "failed", "error": "*", "changed": "false"})
		if !strings.Contains(j.text, "pgofetch failed: ") {
			t.Errorf("no error annotation:\n%s", tail(j.text, 40))
		}
		if _, err := os.Stat(filepath.Join(j.record, "server")); err == nil {
			t.Errorf("the build ran after the failed step")
		}
	})

	t.Run("outage keeps the profile of the repository", func(t *testing.T) {
		w.t = t
		inRepo := first[:len(first):len(first)]
		repo := snapshotRepo(t, map[string][]byte{destPath: inRepo})
		// A cache with the binary but no last good profile.
		saved := w.cache
		w.cache = filepath.Join(t.TempDir(), "cache")
		defer func() { w.cache = saved }()
		os.MkdirAll(w.cache, 0o755)
		for _, e := range cacheEntries(t, saved)["pgofetch-bin-"] {
			data, _ := os.ReadFile(e)
			os.WriteFile(filepath.Join(w.cache, filepath.Base(e)), data, 0o644)
		}
		w.srv.SetOutage(true)
		defer w.srv.SetOutage(false)
		j := w.run(jobOpts{workflow: "example-pgo.yml", repo: repo})
		j.requireGreen(t)
		out := j.outputs(t, "pgo")
		want(t, out, map[string]string{"outcome": "failed", "path": destPath, "fallback": "true", "changed": "false"})
		if got := checkProfile(t, j, out); !bytes.Equal(got, inRepo) {
			t.Errorf("the repository's profile was not kept byte for byte")
		}
		if !strings.Contains(j.text, "using "+destPath+" as checked out") {
			t.Errorf("the warning does not say the checked-out profile is used:\n%s", tail(j.text, 40))
		}
	})

	t.Run("no Go and no compiler", func(t *testing.T) {
		w.t = t
		saved := w.cache
		w.cache = filepath.Join(t.TempDir(), "cache") // nothing cached: pgofetch must be built
		defer func() { w.cache = saved }()
		j := w.run(jobOpts{workflow: "testdata/no-toolchain.yml", path: pathWithoutToolchain(t)})
		j.requireGreen(t)
		out := j.outputs(t, "pgo")
		want(t, out, map[string]string{"outcome": "failed", "path": "", "fallback": "false", "changed": "false"})
		if !strings.HasPrefix(out["error"], "cannot build pgofetch: cc is not installed") {
			t.Errorf("error output %q: want why pgofetch could not be built", out["error"])
		}
		note := "no profile: " + out["error"] + "; the build goes on without PGO"
		if !strings.Contains(j.text, note) || !strings.Contains(j.summary, note) {
			t.Errorf("the warning and the summary should say %q:\n%s", note, tail(j.text, 40))
		}
		if _, err := os.Stat(filepath.Join(j.record, "default.pgo")); err == nil {
			t.Errorf("a profile appeared without pgofetch")
		}
	})

	t.Run("inputs are text, never commands", func(t *testing.T) {
		w.t = t
		w.srv.ResetRequests()
		j := w.run(jobOpts{workflow: "testdata/hostile-inputs.yml"})
		j.requireGreen(t)
		want(t, j.outputs(t, "pgo"), map[string]string{"outcome": "written"})
		literal := 0
		for _, r := range w.srv.Requests() {
			if strings.Contains(r.Body, "env:$(touch pwned-1) `touch pwned-2` \\\"; touch pwned-3 #") {
				literal++
			}
		}
		if literal == 0 {
			t.Errorf("the query did not reach the API as it was written")
		}
		if m, _ := filepath.Glob(filepath.Join(w.repo, "pwned-*")); len(m) > 0 {
			t.Errorf("an input ran as a command: %v", m)
		}
		// noinline-func: each line one -noinline-func, as written, which
		// the profile's comments record.
		data, err := os.ReadFile(filepath.Join(j.record, "default.pgo"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.ParseData(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []string{`example\.com/pgofetch-example/internal/work\.parseRecord`, `$(touch pwned-4).*`} {
			c := "pgofetch: no-inline regexp \"" + re + "\""
			found := false
			for _, have := range p.Comments {
				found = found || have == c
			}
			if !found {
				t.Errorf("the profile's comments lack %s: %q", c, p.Comments)
			}
		}
	})

	t.Run("compare: benchstat's table in the job summary", func(t *testing.T) {
		w.t = t
		w.compareScenario(t)
	})

	// Every job above had the keys, shown unmasked (--insecure-secrets),
	// and none printed or stored them (world.noKeys); they did reach the
	// API.
	reqs := w.srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the fake API")
	}
	for _, r := range reqs {
		if r.APIKey != fakedd.KeyOK || r.AppKey != fakedd.KeyOK {
			t.Errorf("a request without the right keys: %+v", r)
		}
	}
}

// pathWithoutToolchain is a PATH of the system's commands but compilers,
// build tools, package managers and Go.
func pathWithoutToolchain(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	deny := regexp.MustCompile(`^(cc|c89|c99|c\+\+|cpp|gcc.*|g\+\+.*|clang.*|tcc|.*-linux-gnu-.*|ld.*|as|cmake|ctest|cpack|ccmake|ninja|make|pkg-config|pkgconf|apt.*|dpkg.*|sudo|go|gofmt)$`)
	for _, src := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		entries, _ := os.ReadDir(src)
		for _, e := range entries {
			name := e.Name()
			if deny.MatchString(name) {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				continue
			}
			os.Symlink(filepath.Join(src, name), filepath.Join(dir, name))
		}
	}
	for _, tool := range []string{"go", "cc", "gcc", "cmake", "apt-get"} {
		if p, err := exec.LookPath(filepath.Join(dir, tool)); err == nil {
			t.Fatalf("%s is still there: %s", tool, p)
		}
	}
	return dir
}

// cacheEntries lists the cache stand-in's entries by key prefix.
func cacheEntries(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	sort.Strings(files)
	m := map[string][]string{}
	for _, f := range files {
		for _, p := range []string{"pgofetch-bin-", "pgofetch-pgo-"} {
			if strings.HasPrefix(filepath.Base(f), p) {
				m[p] = append(m[p], f)
			}
		}
	}
	return m
}

func untar(t *testing.T, file, dst string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dst, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(target), 0o755)
			data, _ := io.ReadAll(tr)
			if err := os.WriteFile(target, data, os.FileMode(h.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// grepLines keeps the lines of s that hold any of subs.
func grepLines(s string, subs ...string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				keep = append(keep, l)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
}

// retar copies the tar file src to dst with the regular file name's
// content replaced.
func retar(t *testing.T, src, dst, name string, content []byte) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tr := tar.NewReader(in)
	replaced := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if strings.TrimPrefix(h.Name, "./") == name {
			data, replaced = content, true
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !replaced {
		t.Fatalf("%s holds no %s", src, name)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
