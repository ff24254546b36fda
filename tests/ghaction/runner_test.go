package ghaction

// A stand-in for the GitHub Actions runner, for the action's composite
// steps: it reads action.yml, gives the inputs as the runner does (with
// their defaults), evaluates the ${{ }} values of env:, with:, if: and
// outputs:, runs each run: step as `bash --noprofile --norc -eo pipefail
// FILE` with GITHUB_ACTION_PATH, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH,
// GITHUB_STEP_SUMMARY, RUNNER_TEMP and the rest set, reads the files back,
// and records and stubs the uses: steps. actions/cache/restore and
// actions/cache/save share a cache store that outlives a job, as the
// Actions cache does, so a later job restores what an earlier one saved.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type actionInput struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

type actionOutput struct {
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
}

type actionStep struct {
	Name             string            `yaml:"name"`
	ID               string            `yaml:"id"`
	If               string            `yaml:"if"`
	Uses             string            `yaml:"uses"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	Env              map[string]string `yaml:"env"`
	With             map[string]string `yaml:"with"`
	WorkingDirectory string            `yaml:"working-directory"`
}

type actionFile struct {
	Name        string                  `yaml:"name"`
	Description string                  `yaml:"description"`
	Author      string                  `yaml:"author"`
	Branding    map[string]string       `yaml:"branding"`
	Inputs      map[string]actionInput  `yaml:"inputs"`
	Outputs     map[string]actionOutput `yaml:"outputs"`
	Runs        struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

// loadAction parses action.yml strictly: a key this runner does not know
// is an error rather than silently ignored.
func loadAction(t testing.TB, dir string) *actionFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var a actionFile
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		t.Fatalf("action.yml: runs.using is %q, want composite", a.Runs.Using)
	}
	return &a
}

// cacheEntry is one saved Actions cache entry: a copy of its paths.
type cacheEntry struct {
	key     string
	version string // the paths, as actions/cache versions an entry
	dir     string
	seq     int
}

// cacheStore is the Actions cache of a repository, across jobs.
type cacheStore struct {
	dir     string
	entries []*cacheEntry
	seq     int
}

func newCacheStore(t testing.TB) *cacheStore {
	return &cacheStore{dir: t.TempDir()}
}

func (s *cacheStore) find(key, version string, prefix bool) *cacheEntry {
	var best *cacheEntry
	for _, e := range s.entries {
		if e.version != version {
			continue
		}
		if (prefix && strings.HasPrefix(e.key, key)) || (!prefix && e.key == key) {
			if best == nil || e.seq > best.seq {
				best = e
			}
		}
	}
	return best
}

func (s *cacheStore) keys() []string {
	var ks []string
	for _, e := range s.entries {
		ks = append(ks, e.key)
	}
	return ks
}

// usesCall is a recorded uses: step.
type usesCall struct {
	Step   string
	Uses   string
	With   map[string]string
	Result string // what the stub did: "hit KEY", "restored KEY", "miss", "saved KEY", ...
}

// stepRun is what happened to one step.
type stepRun struct {
	Name    string
	ID      string
	Skipped bool
	Outcome string
	Env     map[string]string // the step's env: block, evaluated
	Outputs map[string]string
}

// jobResult is one run of the action.
type jobResult struct {
	Steps    []stepRun
	Uses     []usesCall
	Outputs  map[string]string
	Failed   bool
	Log      string   // every step's output, as the job log shows it
	Commands []string // the workflow commands (::name::) the runner would act on
	Summary  string   // GITHUB_STEP_SUMMARY
	Files    map[string]string
}

func (j *jobResult) step(name string) *stepRun {
	for i := range j.Steps {
		if j.Steps[i].ID == name || j.Steps[i].Name == name {
			return &j.Steps[i]
		}
	}
	return nil
}

// runner runs the action in jobs that share a workspace layout, a
// RUNNER_TEMP path (emptied between jobs, as on a fresh runner) and a cache
// store.
type runner struct {
	t          testing.TB
	actionDir  string
	action     *actionFile
	workspace  string
	runnerTemp string
	cache      *cacheStore
	env        map[string]string // the job's (and the calling step's) env:
	path       string            // PATH
	runID      int
}

var pinnedSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// baseEnv is the machine's environment without what would change the
// action's behaviour behind the test's back.
func baseEnv(path string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "DD_"), strings.HasPrefix(k, "PGOFETCH"), strings.HasPrefix(k, "GITHUB_"),
			strings.HasPrefix(k, "RUNNER_"), strings.HasPrefix(k, "INPUT_"),
			k == "SSL_CERT_FILE", k == "CURL_CA_BUNDLE", k == "CI":
			continue
		}
		env[k] = v
	}
	if path != "" {
		env["PATH"] = path
	}
	return env
}

// run runs the action once with the given inputs, as one job.
func (r *runner) run(inputs map[string]string) *jobResult {
	t := r.t
	t.Helper()
	r.runID++
	if err := os.RemoveAll(r.runnerTemp); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.runnerTemp, 0o755); err != nil {
		t.Fatal(err)
	}
	a := r.action
	c := &evalCtx{inputs: map[string]string{}, steps: map[string]*stepState{}, env: map[string]string{}}
	for name := range inputs {
		if _, ok := a.Inputs[name]; !ok {
			t.Fatalf("input %q is not declared in action.yml", name)
		}
	}
	for name, in := range a.Inputs {
		v, given := inputs[name]
		if !given {
			if in.Required {
				t.Fatalf("required input %q not given", name)
			}
			var err error
			if v, err = interpolate(in.Default, c); err != nil {
				t.Fatalf("input %s default: %v", name, err)
			}
		}
		c.inputs[name] = v
	}
	for k, v := range r.env {
		c.env[k] = v
	}

	res := &jobResult{Outputs: map[string]string{}, Files: map[string]string{}}
	var log, summary strings.Builder
	addedEnv := map[string]string{}
	var addedPath []string
	for i, st := range a.Runs.Steps {
		name := st.Name
		if name == "" {
			name = st.ID
		}
		sr := stepRun{Name: name, ID: st.ID, Env: map[string]string{}, Outputs: map[string]string{}}
		ok, err := evalIf(st.If, c)
		if err != nil {
			t.Fatalf("step %q if: %v", name, err)
		}
		if !ok {
			sr.Skipped, sr.Outcome = true, "skipped"
			res.Steps = append(res.Steps, sr)
			if st.ID != "" {
				c.steps[st.ID] = &stepState{outputs: map[string]string{}, outcome: "skipped", conclusion: "skipped"}
			}
			continue
		}
		for k, v := range st.Env {
			ev, err := interpolate(v, c)
			if err != nil {
				t.Fatalf("step %q env %s: %v", name, k, err)
			}
			sr.Env[k] = ev
		}
		fmt.Fprintf(&log, "##[group]%s\n", name)
		switch {
		case st.Uses != "" && st.Run != "":
			t.Fatalf("step %q has both uses and run", name)
		case st.Uses != "":
			with := map[string]string{}
			for k, v := range st.With {
				ev, err := interpolate(v, c)
				if err != nil {
					t.Fatalf("step %q with %s: %v", name, k, err)
				}
				with[k] = ev
			}
			call := usesCall{Step: name, Uses: st.Uses, With: with}
			r.stub(&call, &sr, &log)
			res.Uses = append(res.Uses, call)
		case st.Run != "":
			if st.Shell != "bash" {
				t.Fatalf("step %q: shell %q (this runner runs bash steps)", name, st.Shell)
			}
			r.runScript(i, st, &sr, addedEnv, &addedPath, &log, &summary, res)
		default:
			t.Fatalf("step %q has neither uses nor run", name)
		}
		fmt.Fprintf(&log, "##[endgroup] %s: %s\n", name, sr.Outcome)
		if sr.Outcome == "failure" {
			c.failed = true
			res.Failed = true
		}
		res.Steps = append(res.Steps, sr)
		if st.ID != "" {
			c.steps[st.ID] = &stepState{outputs: sr.Outputs, outcome: sr.Outcome, conclusion: sr.Outcome}
		}
	}
	for k, v := range addedEnv {
		c.env[k] = v
	}
	for name, out := range a.Outputs {
		v, err := interpolate(out.Value, c)
		if err != nil {
			t.Fatalf("output %s: %v", name, err)
		}
		res.Outputs[name] = v
	}
	res.Log = log.String()
	res.Summary = summary.String()
	return res
}

// runScript runs one run: step as the runner runs a bash step.
func (r *runner) runScript(i int, st actionStep, sr *stepRun, addedEnv map[string]string, addedPath *[]string,
	log, summary *strings.Builder, res *jobResult) {
	t := r.t
	dir := filepath.Join(r.runnerTemp, "_runner_file_commands")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(dir, fmt.Sprintf("%s_%d_%d", strings.ToLower(f), r.runID, i))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		files[f] = p
	}
	script := filepath.Join(r.runnerTemp, fmt.Sprintf("step-%d-%d.sh", r.runID, i))
	if err := os.WriteFile(script, []byte(st.Run), 0o644); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(r.path)
	for k, v := range r.env {
		env[k] = v
	}
	for k, v := range addedEnv {
		env[k] = v
	}
	if len(*addedPath) > 0 {
		env["PATH"] = strings.Join(*addedPath, ":") + ":" + env["PATH"]
	}
	for k, v := range map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true",
		"GITHUB_ACTION_PATH": r.actionDir, "GITHUB_WORKSPACE": r.workspace,
		"GITHUB_RUN_ID": fmt.Sprint(1000 + r.runID), "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "build",
		"RUNNER_TEMP": r.runnerTemp, "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
	} {
		env[k] = v
	}
	for k, v := range files {
		env[k] = v
	}
	for k, v := range sr.Env {
		env[k] = v
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)

	wd := r.workspace
	if st.WorkingDirectory != "" {
		wd = filepath.Join(r.workspace, st.WorkingDirectory)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = wd
	cmd.Env = envList
	out, err := cmd.CombinedOutput()
	log.Write(out)
	res.Commands = append(res.Commands, activeCommands(string(out))...)
	sr.Outcome = "success"
	if err != nil {
		sr.Outcome = "failure"
		fmt.Fprintf(log, "##[error]Process completed with %v\n", err)
	}
	for name, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res.Files[fmt.Sprintf("%s(%s)", name, sr.Name)] = string(data)
		switch name {
		case "GITHUB_OUTPUT":
			for k, v := range parseFileCommand(t, name, data) {
				sr.Outputs[k] = v
			}
		case "GITHUB_ENV":
			for k, v := range parseFileCommand(t, name, data) {
				addedEnv[k] = v
			}
		case "GITHUB_PATH":
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if l != "" {
					*addedPath = append([]string{l}, *addedPath...)
				}
			}
		case "GITHUB_STEP_SUMMARY":
			summary.Write(data)
		}
	}
}

// parseFileCommand reads GITHUB_OUTPUT or GITHUB_ENV as the runner does:
// NAME=VALUE lines and NAME<<DELIMITER ... DELIMITER blocks.
func parseFileCommand(t testing.TB, file string, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case hd > 0 && (eq < 0 || hd < eq):
			name, delim := line[:hd], line[hd+2:]
			var vals []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				vals = append(vals, sc.Text())
			}
			if !closed {
				t.Fatalf("%s: %s<<%s is never closed", file, name, delim)
			}
			out[name] = strings.Join(vals, "\n")
		case eq > 0:
			out[line[:eq]] = line[eq+1:]
		default:
			t.Fatalf("%s: malformed line %q", file, line)
		}
	}
	return out
}

// knownUses are the actions the stub plays, with the inputs they take.
var knownUses = map[string][]string{
	"actions/cache/restore": {"path", "key", "restore-keys", "enableCrossOsArchive", "fail-on-cache-miss", "lookup-only"},
	"actions/cache/save":    {"path", "key", "upload-chunk-size", "enableCrossOsArchive"},
}

// stub plays a uses: step: actions/cache/restore and actions/cache/save
// against the cache store, as actions/cache v5 does (an entry is versioned
// by its paths; restore-keys match by prefix, newest first; a miss sets no
// cache-hit; saving an existing key only warns).
func (r *runner) stub(call *usesCall, sr *stepRun, log *strings.Builder) {
	t := r.t
	name, ref, ok := strings.Cut(call.Uses, "@")
	if !ok || !pinnedSHA.MatchString(ref) {
		t.Fatalf("uses: %s is not pinned to a full commit SHA", call.Uses)
	}
	allowed, ok := knownUses[name]
	if !ok {
		t.Fatalf("uses: %s has no stub in this runner", call.Uses)
	}
	for k := range call.With {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			t.Fatalf("uses: %s has no input %q", name, k)
		}
	}
	sr.Outcome = "success"
	paths := splitLines(call.With["path"])
	key := call.With["key"]
	if len(paths) == 0 || key == "" {
		t.Fatalf("uses: %s without path or key", name)
	}
	version := strings.Join(paths, "\n")
	switch name {
	case "actions/cache/restore":
		sr.Outputs["cache-primary-key"] = key
		e := r.cache.find(key, version, false)
		exact := e != nil
		if e == nil {
			for _, prefix := range splitLines(call.With["restore-keys"]) {
				if e = r.cache.find(prefix, version, true); e != nil {
					break
				}
			}
		}
		if e == nil {
			call.Result = "miss"
			fmt.Fprintf(log, "Cache not found for input keys: %s\n", key)
			return
		}
		for i, p := range paths {
			copyTree(t, filepath.Join(e.dir, fmt.Sprint(i)), p)
		}
		sr.Outputs["cache-hit"] = fmt.Sprint(exact)
		sr.Outputs["cache-matched-key"] = e.key
		call.Result = "restored " + e.key
		if exact {
			call.Result = "hit " + e.key
		}
		fmt.Fprintf(log, "Cache restored from key: %s\n", e.key)
	case "actions/cache/save":
		if r.cache.find(key, version, false) != nil {
			call.Result = "exists " + key
			fmt.Fprintf(log, "##[warning]Failed to save: Unable to reserve cache with key %s, another job may be creating this cache.\n", key)
			return
		}
		r.cache.seq++
		e := &cacheEntry{key: key, version: version, seq: r.cache.seq,
			dir: filepath.Join(r.cache.dir, fmt.Sprint(r.cache.seq))}
		for i, p := range paths {
			if _, err := os.Stat(p); err != nil {
				call.Result = "nothing to save"
				fmt.Fprintf(log, "##[warning]Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.\n")
				return
			}
			copyTree(t, p, filepath.Join(e.dir, fmt.Sprint(i)))
		}
		r.cache.entries = append(r.cache.entries, e)
		call.Result = "saved " + key
		fmt.Fprintf(log, "Cache saved with key: %s\n", key)
	}
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// copyTree copies files and directories, keeping modes and mtimes, as the
// cache's tar archives do.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}

// activeCommands are the lines of a step's output that the runner takes
// for workflow commands: those starting with ::, except between
// ::stop-commands::TOKEN and ::TOKEN::.
func activeCommands(out string) []string {
	var cmds []string
	stop := ""
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case stop != "":
			if l == "::"+stop+"::" {
				stop = ""
			}
		case strings.HasPrefix(l, "::stop-commands::"):
			stop = strings.TrimPrefix(l, "::stop-commands::")
		case strings.HasPrefix(l, "::"):
			cmds = append(cmds, l)
		}
	}
	return cmds
}
