package ghaction

// The action run end to end, as the runner would run it: against the fake
// Datadog API (tests/fakedd), then `go build` of integrations/example with
// the profile it wrote and `go version -m` of the binary.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

const (
	service = "pgofetch-example"
	query   = "service:" + service + " env:prod"
	dest    = "cmd/server/default.pgo"
)

// sharedTemp holds what outlives one test: the action's repository as the
// runner downloads it (a snapshot, so that edits made to the work tree
// while the tests run do not change the source under them), the
// RUNNER_TEMP path every job uses (the same on every hosted runner, and
// part of a cache entry's version) and the pgofetch binary's cache
// entries, so that the action builds pgofetch once per test run and
// restores it from the cache after.
var sharedTemp string
var binEntries []*cacheEntry

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pgofetch-ghaction-")
	if err == nil {
		err = snapshotRepo(filepath.Join(dir, "action-repo"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ghaction:", err)
		os.Exit(1)
	}
	sharedTemp = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// snapshotRepo copies the repository's files (tracked, and untracked but
// not ignored; not tests/) to dst, keeping their modes.
func snapshotRepo(dst string) error {
	_, file, _, _ := runtime.Caller(0) // tests/ghaction/action_test.go
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("listing the repository's files: %v", err)
	}
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" || strings.HasPrefix(rel, "tests/") {
			continue
		}
		info, err := os.Stat(filepath.Join(root, rel))
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// newRunner makes a runner with a fresh copy of integrations/example as
// its workspace and a cache store that holds nothing but the pgofetch
// binary (when an earlier test built it).
func newRunner(t *testing.T, srv *fakedd.Server) *runner {
	t.Helper()
	actionDir := filepath.Join(sharedTemp, "action-repo", "github-action")
	r := &runner{
		t:          t,
		actionDir:  actionDir,
		action:     loadAction(t, actionDir),
		runnerTemp: filepath.Join(sharedTemp, "runner-temp"),
		cache:      newCacheStore(t),
		env:        map[string]string{},
	}
	r.cache.entries = append(r.cache.entries, binEntries...)
	for _, e := range binEntries {
		r.cache.seq = max(r.cache.seq, e.seq)
	}
	r.freshWorkspace()
	if srv != nil {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, srv.CAPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		r.env["SSL_CERT_FILE"] = ca
		r.env["DD_API_KEY"] = srv.APIKey()
		r.env["DD_APP_KEY"] = srv.AppKey()
	}
	return r
}

// freshWorkspace is a new checkout: a copy of the example, no default.pgo.
func (r *runner) freshWorkspace() {
	r.workspace = filepath.Join(r.t.TempDir(), "work")
	testenv.CopyTree(r.t, testenv.Example(r.t), r.workspace)
	os.Remove(filepath.Join(r.workspace, dest))
}

// keepBinary publishes the binary's cache entries for later tests.
func (r *runner) keepBinary() {
	for _, e := range r.cache.entries {
		if !strings.HasPrefix(e.key, "pgofetch-bin-") {
			continue
		}
		known := false
		for _, b := range binEntries {
			known = known || b.key == e.key
		}
		if !known {
			kept := *e
			kept.dir = filepath.Join(sharedTemp, "bin-cache", fmt.Sprint(e.seq))
			copyTree(r.t, e.dir, kept.dir)
			binEntries = append(binEntries, &kept)
		}
	}
}

// startFake starts the fake API with three profiles of the service (one the
// real production profile of the shared test data) and one of another.
func startFake(t *testing.T) *fakedd.Server {
	t.Helper()
	srv, err := fakedd.Start(fakedd.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	grpc, err := os.ReadFile(testenv.RealProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []fakedd.Profile{
		{ID: "prof-a1", Service: service, Data: fakedd.SyntheticCPUProfile(1, 3.5, time.Minute)},
		{ID: "prof-b2", Service: service, Data: fakedd.SyntheticCPUProfile(2, 1.5, time.Minute)},
		{ID: "prof-grpc", Service: service, Data: grpc},
		{ID: "other-svc", Service: "other", Data: fakedd.SyntheticCPUProfile(3, 9, time.Minute)},
	} {
		if err := srv.AddProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// servedIDs are the ids the server answers a query for the service with,
// in its order (most CPU cores first).
func servedIDs(t *testing.T, srv *fakedd.Server) []string {
	t.Helper()
	ps, err := srv.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	var sel []fakedd.Profile
	for _, p := range ps {
		if p.Service == service {
			sel = append(sel, p)
		}
	}
	for i := range sel { // insertion sort: cores descending, then id
		for j := i; j > 0 && (sel[j].CPUCores > sel[j-1].CPUCores ||
			sel[j].CPUCores == sel[j-1].CPUCores && sel[j].ID < sel[j-1].ID); j-- {
			sel[j], sel[j-1] = sel[j-1], sel[j]
		}
	}
	var ids []string
	for _, p := range sel {
		ids = append(ids, p.ID)
	}
	return ids
}

func requireSuccess(t *testing.T, res *jobResult) {
	t.Helper()
	if res.Failed {
		t.Fatalf("the action failed:\n%s", res.Log)
	}
}

// wantSteps checks which steps ran and what the cache stubs did.
func wantSteps(t *testing.T, res *jobResult, want map[string]string) {
	t.Helper()
	for name, w := range want {
		st := res.step(name)
		if st == nil {
			t.Errorf("no step %q", name)
			continue
		}
		got := st.Outcome
		for _, u := range res.Uses {
			if u.Step == st.Name && !st.Skipped {
				got = strings.Fields(u.Result)[0]
			}
		}
		if got != w {
			t.Errorf("step %q: %s, want %s", name, got, w)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", res.Log)
	}
}

func wantOutputs(t *testing.T, res *jobResult, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got, ok := res.Outputs[k]; !ok || got != w {
			t.Errorf("output %s = %q, want %q", k, got, w)
		}
	}
}

// checkProfileOutputs checks path, samples and bytes against DEST itself.
func checkProfileOutputs(t *testing.T, r *runner, res *jobResult) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.workspace, dest))
	if err != nil {
		t.Fatalf("DEST: %v\n%s", err, res.Log)
	}
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("DEST is not a profile: %v", err)
	}
	wantOutputs(t, res, map[string]string{
		"path":    dest,
		"samples": strconv.Itoa(len(p.Sample)),
		"bytes":   strconv.Itoa(len(data)),
	})
	if len(p.Sample) == 0 {
		t.Error("DEST has no samples")
	}
	return data
}

// buildExample builds cmd/server in the workspace and returns the
// `go version -m` line with -pgo=, or "" when there is none.
func buildExample(t *testing.T, r *runner) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/server")
	cmd.Dir = r.workspace
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "-pgo=") {
			return f[1]
		}
	}
	return ""
}

// noSecrets checks that neither key appears in anything the action wrote
// or printed: logs, outputs, summary, file commands, the workspace,
// RUNNER_TEMP and the cache.
func noSecrets(t *testing.T, r *runner, results ...*jobResult) {
	t.Helper()
	keys := []string{fakedd.DefaultAPIKey, fakedd.DefaultAppKey}
	check := func(where, text string) {
		for _, k := range keys {
			if strings.Contains(text, k) {
				t.Errorf("a Datadog key appears in %s", where)
			}
		}
	}
	for i, res := range results {
		check(fmt.Sprintf("job %d log", i), res.Log)
		check(fmt.Sprintf("job %d summary", i), res.Summary)
		for k, v := range res.Outputs {
			check(fmt.Sprintf("job %d output %s", i, k), v)
		}
		for k, v := range res.Files {
			check(fmt.Sprintf("job %d %s", i, k), v)
		}
	}
	for _, dir := range []string{r.workspace, r.runnerTemp, r.cache.dir} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if data, err := os.ReadFile(p); err == nil {
					check(p, string(data))
				}
			}
			return nil
		})
	}
}

func TestFetchBuildsExample(t *testing.T) {
	srv := startFake(t)
	r := newRunner(t, srv)
	inputs := map[string]string{
		"query":   query,
		"dest":    dest,
		"api-url": srv.URL(),
		"timeout": "30s",
	}
	ids := servedIDs(t, srv)
	if len(ids) != 3 {
		t.Fatalf("served ids %v", ids)
	}

	// Job 1: nothing cached. pgofetch is built from the action's source and
	// both it and the profile are saved in the cache.
	first := r.run(inputs)
	requireSuccess(t, first)
	r.keepBinary()
	binHit := len(binEntries) > 0 && first.step("build").Outputs["built"] == "false"
	want := map[string]string{
		"prep": "success", "Restore the pgofetch binary": "miss", "build": "success",
		"Save the pgofetch binary": "saved", "pgo-restore": "miss", "fetch": "success",
		"Save the last good profile": "saved",
	}
	if binHit { // an earlier test of this run built it
		want["Restore the pgofetch binary"], want["Save the pgofetch binary"] = "hit", "skipped"
	}
	wantSteps(t, first, want)
	data := checkProfileOutputs(t, r, first)
	wantOutputs(t, first, map[string]string{
		"profile-ids": strings.Join(ids, " "),
		"changed":     "true",
		"fallback":    "false",
		"error":       "",
	})
	dq := first.Outputs["debug-query"]
	for _, id := range ids {
		if !strings.Contains(dq, id) {
			t.Errorf("debug-query %q lacks %s", dq, id)
		}
		if !strings.Contains(first.Summary, "`"+id+"`") {
			t.Errorf("the summary does not list profile %s:\n%s", id, first.Summary)
		}
	}
	if !strings.HasPrefix(dq, "profile-id:(") {
		t.Errorf("debug-query %q", dq)
	}
	for _, s := range []string{dq, strconv.Itoa(len(data)) + " bytes", "wrote a new profile", "| CPU cores | age |"} {
		if !strings.Contains(first.Summary, s) {
			t.Errorf("the summary lacks %q:\n%s", s, first.Summary)
		}
	}
	// The query reached the API as given (plus runtime:go).
	reqs := srv.Requests()
	if len(reqs) == 0 || !strings.Contains(reqs[len(reqs)-1].Body, `"query":"`+query+` runtime:go"`) {
		t.Errorf("the API did not get the query: %+v", reqs)
	}
	if line := buildExample(t, r); line != "-pgo="+filepath.Join(r.workspace, dest) {
		t.Errorf("go version -m: build %q, want -pgo=%s", line, filepath.Join(r.workspace, dest))
	}

	// Job 2: a fresh checkout. Both come from the cache; the same profiles
	// give the same file: changed=false, nothing new to save.
	r.freshWorkspace()
	second := r.run(inputs)
	requireSuccess(t, second)
	wantSteps(t, second, map[string]string{
		"Restore the pgofetch binary": "hit", "Save the pgofetch binary": "skipped",
		"pgo-restore": "restored", "fetch": "success", "Save the last good profile": "skipped",
	})
	if second.step("build").Outputs["built"] != "false" {
		t.Error("pgofetch was built again despite the cache")
	}
	if again := checkProfileOutputs(t, r, second); !bytes.Equal(again, data) {
		t.Error("the same profiles gave a different file")
	}
	wantOutputs(t, second, map[string]string{"changed": "false", "fallback": "false",
		"profile-ids": strings.Join(ids, " "), "debug-query": dq})
	if !strings.Contains(second.Summary, "unchanged") {
		t.Errorf("the summary does not say unchanged:\n%s", second.Summary)
	}

	// Job 3: the service's profiles changed, and the runner has no jq (the
	// action reads pgofetch's JSON log with awk then).
	srv.SetGeneration(1)
	ids1 := servedIDs(t, srv)
	r.path = pathWithout(t, "jq")
	r.freshWorkspace()
	third := r.run(inputs)
	r.path = ""
	requireSuccess(t, third)
	wantSteps(t, third, map[string]string{"pgo-restore": "restored", "Save the last good profile": "saved"})
	if changed := checkProfileOutputs(t, r, third); bytes.Equal(changed, data) {
		t.Error("changed profiles gave the same file")
	}
	wantOutputs(t, third, map[string]string{"changed": "true", "profile-ids": strings.Join(ids1, " ")})
	if !strings.Contains(third.Outputs["debug-query"], ids1[0]) {
		t.Errorf("debug-query %q lacks %s", third.Outputs["debug-query"], ids1[0])
	}
	if got := r.cache.keys(); len(got) != 3 {
		t.Errorf("cache keys %v: want the binary and two profiles", got)
	}

	// Job 4: max-age: the last good profile, restored from the cache, is
	// younger than that, so nothing is fetched.
	before := len(srv.Requests())
	r.freshWorkspace()
	inputs4 := map[string]string{"query": query, "dest": dest, "api-url": srv.URL(), "max-age": "1h"}
	fourth := r.run(inputs4)
	requireSuccess(t, fourth)
	if n := len(srv.Requests()) - before; n != 0 {
		t.Errorf("max-age: %d requests to the API", n)
	}
	checkProfileOutputs(t, r, fourth)
	wantOutputs(t, fourth, map[string]string{"changed": "false", "fallback": "false"})

	noSecrets(t, r, first, second, third, fourth)
}

func TestOutageFallsBackToLastGoodProfile(t *testing.T) {
	srv := startFake(t)
	r := newRunner(t, srv)
	inputs := map[string]string{"query": query, "dest": dest, "api-url": srv.URL(), "timeout": "3s"}
	good := r.run(inputs)
	requireSuccess(t, good)
	r.keepBinary()
	goodData := checkProfileOutputs(t, r, good)

	srv.SetOutage(true)
	r.freshWorkspace()
	res := r.run(inputs)
	requireSuccess(t, res)
	data := checkProfileOutputs(t, r, res)
	if !bytes.Equal(data, goodData) {
		t.Error("the fallback is not the last good profile")
	}
	wantOutputs(t, res, map[string]string{
		"fallback":    "true",
		"changed":     "false",
		"profile-ids": good.Outputs["profile-ids"],
		"debug-query": good.Outputs["debug-query"],
		"samples":     good.Outputs["samples"],
	})
	if res.Outputs["error"] == "" {
		t.Error("output error is empty after an outage")
	}
	wantSteps(t, res, map[string]string{"pgo-restore": "restored", "Save the last good profile": "skipped"})
	if !hasCommand(res, "::warning title=pgofetch::pgofetch failed") ||
		!strings.Contains(res.Log, "last good profile from the Actions cache") {
		t.Errorf("the log does not warn of the fallback:\n%s", res.Log)
	}
	if !strings.Contains(res.Summary, "fell back to the last good profile") {
		t.Errorf("the summary does not say it fell back:\n%s", res.Summary)
	}
	if line := buildExample(t, r); line != "-pgo="+filepath.Join(r.workspace, dest) {
		t.Errorf("go version -m after the fallback: %q", line)
	}

	// The same outage with -fail: the step fails, nothing falls back.
	r.freshWorkspace()
	failIn := map[string]string{"fail": "true"}
	for k, v := range inputs {
		failIn[k] = v
	}
	failed := r.run(failIn)
	if !failed.Failed || failed.step("fetch").Outcome != "failure" {
		t.Errorf("fail: true: the action did not fail:\n%s", failed.Log)
	}
	if failed.Outputs["fallback"] != "false" || failed.Outputs["error"] == "" {
		t.Errorf("fail: true: outputs %v", failed.Outputs)
	}
	if !strings.Contains(failed.Summary, "the step fails") || !strings.Contains(failed.Log, "::error title=pgofetch::") {
		t.Errorf("fail: true: the summary or the log does not say the step fails:\n%s\n%s", failed.Summary, failed.Log)
	}

	// An outage with nothing cached: the build goes on without PGO.
	bare := newRunner(t, srv)
	none := bare.run(inputs)
	requireSuccess(t, none)
	wantOutputs(t, none, map[string]string{"fallback": "false", "path": "", "changed": "false", "bytes": ""})
	if _, err := os.Stat(filepath.Join(bare.workspace, dest)); err == nil {
		t.Error("DEST exists after a failed fetch with nothing cached")
	}
	if !strings.Contains(none.Summary, "building without PGO") {
		t.Errorf("summary:\n%s", none.Summary)
	}
	if line := buildExample(t, bare); line != "" {
		t.Errorf("built with %s, with no profile", line)
	}
	noSecrets(t, r, good, res, failed)
	noSecrets(t, bare, none)
}

// TestInputsArePassedLiterally gives inputs that a script which inlined
// them (or ran them through eval) would execute.
func TestInputsArePassedLiterally(t *testing.T) {
	srv := startFake(t)
	r := newRunner(t, srv)
	sentinel := filepath.Join(r.workspace, "x")
	if err := os.WriteFile(sentinel, []byte("still here"), 0o644); err != nil {
		t.Fatal(err)
	}
	nasty := `service:` + service + ` $(touch pwned-subst) "; rm -rf x; touch pwned-quote; echo " ` + "`touch pwned-tick`"
	res := r.run(map[string]string{"query": nasty, "dest": dest, "api-url": srv.URL()})
	requireSuccess(t, res)
	r.keepBinary()
	checkProfileOutputs(t, r, res)
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the API")
	}
	var body struct {
		Queries []struct {
			Filter struct {
				Query string `json:"query"`
			} `json:"filter"`
		} `json:"queries"`
	}
	if err := json.Unmarshal([]byte(reqs[len(reqs)-1].Body), &body); err != nil || len(body.Queries) != 1 {
		t.Fatalf("request body %q: %v", reqs[len(reqs)-1].Body, err)
	}
	if got := body.Queries[0].Filter.Query; got != nasty+" runtime:go" {
		t.Errorf("the API got query %q, want %q", got, nasty+" runtime:go")
	}

	// A profile file whose name holds the same, as an in source.
	r.freshWorkspace()
	sentinel = filepath.Join(r.workspace, "x")
	os.WriteFile(sentinel, []byte("still here"), 0o644)
	name := `$(touch pwned-in)"; rm -rf x; echo ".pprof`
	if err := os.WriteFile(filepath.Join(r.workspace, name), fakedd.SyntheticCPUProfile(5, 2, time.Minute), 0o644); err != nil {
		t.Fatal(err)
	}
	in := r.run(map[string]string{"in": name, "dest": dest})
	requireSuccess(t, in)
	checkProfileOutputs(t, r, in)
	wantOutputs(t, in, map[string]string{"profile-ids": "", "debug-query": "", "changed": "true"})
	if !strings.Contains(in.Summary, name) {
		t.Errorf("the summary does not list the source:\n%s", in.Summary)
	}

	// A flag value: pgofetch must get it as it is, and refuse it.
	bad := r.run(map[string]string{"in": name, "dest": dest, "from": `$(touch pwned-from)`})
	if !bad.Failed || !strings.Contains(bad.Outputs["error"], "$(touch pwned-from)") {
		t.Errorf("from: the action did not fail with the literal value: %v\n%s", bad.Outputs, bad.Log)
	}
	if !strings.Contains(bad.Summary, "the step fails** (exit code 2)") {
		t.Errorf("from: the summary does not give the usage error:\n%s", bad.Summary)
	}

	// A line break in an input: what follows it, echoed by pgofetch or the
	// action, must not become a workflow command.
	inject := r.run(map[string]string{"query": query, "dest": dest, "timeout": "2s",
		"api-url": srv.URL() + "\n::error title=injected::injected", "profiles": "1\n::warning::injected"})
	if len(inject.Commands) == 0 {
		t.Errorf("no workflow command at all:\n%s", inject.Log)
	}
	for _, c := range inject.Commands {
		if strings.Contains(c, "injected") && !strings.HasPrefix(c, "::warning title=pgofetch::") &&
			!strings.HasPrefix(c, "::error title=pgofetch::") {
			t.Errorf("an input became a workflow command: %s", c)
		}
	}

	for _, dir := range []string{r.workspace, r.runnerTemp, testenv.RepoRoot(t), "."} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), "pwned-") {
				t.Errorf("an input ran as code: %s exists", p)
			}
			return nil
		})
	}
	if _, err := os.Stat(sentinel); err != nil {
		t.Errorf("an input ran as code: %v", err)
	}
	noSecrets(t, r, res, in, bad, inject)
}

// pathWithout is a PATH whose directories hold everything of $PATH but the
// named commands (symbolic links, first one found wins).
func pathWithout(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			skip := false
			for _, n := range names {
				skip = skip || e.Name() == n
			}
			if skip {
				continue
			}
			target := filepath.Join(dir, e.Name())
			if _, err := os.Lstat(target); err == nil {
				continue
			}
			os.Symlink(filepath.Join(d, e.Name()), target)
		}
	}
	cmd := exec.Command("bash", "-c", "command -v "+strings.Join(names, " "))
	cmd.Env = []string{"PATH=" + dir}
	if out, err := cmd.Output(); err == nil {
		t.Fatalf("still on the stripped PATH: %s", out)
	}
	return dir
}

func hasCommand(res *jobResult, prefix string) bool {
	for _, c := range res.Commands {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}
