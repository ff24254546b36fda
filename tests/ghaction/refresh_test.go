package ghaction

// The scheduled refresh workflow (github-action/examples/refresh-profiles.yml)
// under act against the fake Datadog API, on a repository that commits
// the default.pgo of two main packages listed in pgofetch.list, with
// peter-evans/create-pull-request mapped to a stand-in that records what it
// is given (stubs/create-pull-request).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

const (
	serverPkg = "integrations/example/cmd/server"
	batchPkg  = "integrations/example/cmd/batch"
	// hotFunc is the function a newer profile of the server makes hot.
	hotFunc = "example.com/synthetic21.(*cache).Lookup"
)

const refreshList = `# the main packages whose default.pgo pgofetch refreshes
` + serverPkg + `   'service:svc-server env:prod'
` + batchPkg + `    -profiles 2 'service:svc-batch env:prod'
`

// withHotFunction adds to a CPU profile a call from its Run function to fn
// that weighs as much as the rest of the profile: fn becomes hot.
func withHotFunction(t *testing.T, data []byte, fn string) []byte {
	t.Helper()
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatal(err)
	}
	var run *profile.Location
	total := make([]int64, len(p.SampleType))
	for _, s := range p.Sample {
		for i, v := range s.Value {
			total[i] += v
		}
		for _, l := range s.Location {
			if strings.HasSuffix(l.Line[0].Function.Name, ".Run") {
				run = l
			}
		}
	}
	if run == nil {
		t.Fatal("the profile has no Run function")
	}
	f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: fn, SystemName: fn, Filename: "app/cache.go", StartLine: 30}
	p.Function = append(p.Function, f)
	l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: run.Mapping, Address: 0x402000,
		Line: []profile.Line{{Function: f, Line: 33}}}
	p.Location = append(p.Location, l)
	callers := p.Sample[0].Location[1:] // Run, main.main
	p.Sample = append(p.Sample, &profile.Sample{Location: append([]*profile.Location{l}, callers...), Value: total})
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// commitProfiles refreshes the listed packages' profiles by hand, from
// what the fake serves now, and commits them: the repository's state
// before the scheduled run.
func (w *world) commitProfiles(t *testing.T) {
	t.Helper()
	cmd := exec.Command(testenv.Pgofetch(t), "refresh", "-list", "pgofetch.list", "-fail")
	cmd.Dir = w.repo
	cmd.Env = append(os.Environ(), "DD_API_KEY="+w.srv.APIKey(), "DD_APP_KEY="+w.srv.AppKey(),
		"PGOFETCH_API_URL="+w.srv.URL(), "SSL_CERT_FILE="+w.ca, "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgofetch refresh by hand: %v\n%s", err, out)
	}
	for _, pkg := range []string{serverPkg, batchPkg} {
		if _, err := os.Stat(filepath.Join(w.repo, pkg, "default.pgo")); err != nil {
			t.Fatalf("the refresh by hand wrote no profile for %s: %v", pkg, err)
		}
	}
	git(t, w.repo, "add", "-A", "--", "*default.pgo")
	git(t, w.repo, "commit", "-q", "-m", "profiles")
}

func TestRefreshUnderAct(t *testing.T) {
	w := newWorld(t)
	server := fakedd.SyntheticCPUProfile(21, 3, time.Minute)
	batch := []fakedd.Profile{
		{ID: "batch-1", Service: "svc-batch", Data: fakedd.SyntheticCPUProfile(22, 2, time.Minute)},
		{ID: "batch-2", Service: "svc-batch", Data: fakedd.SyntheticCPUProfile(23, 1, time.Minute)},
	}
	w.serve(append(batch, fakedd.Profile{ID: "server-1", Service: "svc-server", Data: server})...)
	w.repo = snapshotRepo(t, map[string][]byte{"pgofetch.list": []byte(refreshList)})
	w.commitProfiles(t)
	prRecord := func(j *job) string { return filepath.Join(j.record, "create-pull-request") }

	t.Run("nothing changed: no pull request", func(t *testing.T) {
		w.t = t
		j := w.run(jobOpts{workflow: refreshWorkflow, job: "refresh"})
		j.requireGreen(t)
		want(t, j.steps["pgo"].Outputs, map[string]string{"outcome": "unchanged", "changed": "0", "diff": "", "error": ""})
		if s := j.steps["pr"]; s.Outcome != "skipped" {
			t.Errorf("the pull request step: %+v, want skipped", s)
		}
		if _, err := os.Stat(prRecord(j)); err == nil {
			t.Errorf("create-pull-request was called")
		}
		if !strings.Contains(j.summary, "no profile changed") {
			t.Errorf("the job summary does not say no profile changed:\n%s", j.summary)
		}
	})

	t.Run("no keys: every package fails, no pull request, green", func(t *testing.T) {
		w.t = t
		j := w.run(jobOpts{workflow: refreshWorkflow, job: "refresh", noKeys: true})
		j.requireGreen(t)
		out := j.steps["pgo"].Outputs
		want(t, out, map[string]string{"outcome": "failed", "changed": "0", "diff": ""})
		if !strings.HasPrefix(out["error"], "2 of the listed packages failed and keep their profiles as they are; ") {
			t.Errorf("error output %q: want how many failed and why", out["error"])
		}
		if !strings.Contains(j.text, out["error"]) || !strings.Contains(j.summary, out["error"]) {
			t.Errorf("the warning and the summary should say %q:\n%s", out["error"], j.summary)
		}
		if s := j.steps["pr"]; s.Outcome != "skipped" {
			t.Errorf("the pull request step: %+v, want skipped", s)
		}
		for _, pkg := range []string{serverPkg, batchPkg} {
			cmd := exec.Command("git", "diff", "--quiet", "HEAD", "--", pkg+"/default.pgo")
			cmd.Dir = w.repo
			if err := cmd.Run(); err != nil {
				t.Errorf("%s/default.pgo is not the committed one: %v", pkg, err)
			}
		}
	})

	t.Run("one profile changed: a pull request with its diff", func(t *testing.T) {
		w.t = t
		w.serve(append(batch, fakedd.Profile{ID: "server-2", Service: "svc-server", Data: withHotFunction(t, server, hotFunc)})...)
		j := w.run(jobOpts{workflow: refreshWorkflow, job: "refresh"})
		j.requireGreen(t)
		out := j.steps["pgo"].Outputs
		want(t, out, map[string]string{"outcome": "written", "changed": "1", "diff": "*", "error": ""})
		if s := j.steps["pr"]; s.Outcome != "success" {
			t.Fatalf("the pull request step: %+v\n%s", s, tail(j.text, 40))
		}
		read := func(name string) string {
			data, err := os.ReadFile(filepath.Join(prRecord(j), name))
			if err != nil {
				t.Fatalf("the stand-in recorded no %s: %v", name, err)
			}
			return string(data)
		}
		for name, v := range map[string]string{"title": "Refresh default.pgo profiles", "body-path": out["diff"],
			"branch": "pgofetch/refresh-profiles", "body": ""} {
			if got := read(name); got != v {
				t.Errorf("create-pull-request's %s = %q, want %q", name, got, v)
			}
		}
		body := read("body.md")
		t.Logf("the pull request's body:\n%s", body)
		// The function is listed with an old share of 0: it entered.
		for _, s := range []string{"## " + serverPkg + "\n", "| `" + hotFunc + "` | 0.00% | "} {
			if !strings.Contains(body, s) {
				t.Errorf("the body lacks %q", s)
			}
		}
		if strings.Contains(body, "## "+batchPkg) {
			t.Errorf("the body names %s, whose profile did not change", batchPkg)
		}
		if !strings.Contains(j.summary, "`"+hotFunc+"`") {
			t.Errorf("the job summary does not show the diff:\n%s", j.summary)
		}
		// add-paths selects the changed profile, and nothing else.
		if files := read("files"); files != " M "+serverPkg+"/default.pgo\n" {
			t.Errorf("add-paths selects %q, want the server's default.pgo alone", files)
		}
	})
}

// TestRefreshStep: the refresh input's errors, the step's script run as the
// action runs it, with the real pgofetch: inputs that belong to a package's
// line, and a bad line of the list, fail the step (exit code 2) with one
// annotation that says what and where.
func TestRefreshStep(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "pgofetch.list")
	if err := os.WriteFile(list, []byte("cmd/a -in a.pprof\ncmd/b -foo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PGOFETCH_SUPPORTED=true", "PGOFETCH_PGO_DIR=" + t.TempDir(), "PGOFETCH_BIN=" + testenv.Pgofetch(t),
		"INPUT_REFRESH=" + list}
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"dest too", []string{"INPUT_DEST=cmd/a/default.pgo"},
			"::error title=pgofetch::set dest or refresh, not both"},
		{"a query", []string{"INPUT_QUERY=service:a"},
			"::error title=pgofetch::the query input applies to dest; with refresh, each line of " + list + " holds its package's arguments"},
		{"a bad list line", nil,
			"::error title=pgofetch::pgofetch refresh exited with code 2: " + list + ":2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, log, code := step(t, "fetch.sh", append(env, tc.env...)...)
			if code != 2 || !strings.Contains(log, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, log)
			}
			if tc.env == nil && (out["outcome"] != "failed" || out["changed"] != "0" || out["diff"] != "") {
				t.Errorf("outputs %v: want outcome failed, changed 0, no diff", out)
			}
		})
	}
}
