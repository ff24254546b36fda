// Package result tests pgofetch's machine-readable output end to end:
// -result FILE (one JSON object, or name=value lines with -result-format
// github) for every outcome and every kind of source, and -json, whose
// log stream must be one JSON object per line, -v's curl trace included.
package result

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// Result is the -result object, decoded strictly.
type Result struct {
	Version    string   `json:"version"`
	Outcome    string   `json:"outcome"`
	Dest       string   `json:"dest"`
	Path       string   `json:"path"`
	Changed    bool     `json:"changed"`
	Samples    int64    `json:"samples"`
	Bytes      int64    `json:"bytes"`
	ProfileIDs []string `json:"profile-ids"`
	DebugQuery string   `json:"debug-query"`
	Sources    []Source `json:"sources"`
	Error      string   `json:"error"`
	ErrorCode  int      `json:"error-code"`
	ExitCode   int      `json:"exit-code"`
}

// Source is one profile read, as its "read profile" or "extracted
// profile" log line names it.
type Source struct {
	ProfileID string  `json:"profile-id"`
	Source    string  `json:"source"`
	Samples   int64   `json:"samples"`
	CPUCores  float64 `json:"cpu-cores"`
	Age       int64   `json:"age"`
}

const service = "result-svc"

type env struct {
	t      *testing.T
	srv    *fakedd.Server
	ca     string
	dir    string
	served []string // the ids a query for the service gets, most CPU first
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, err := fakedd.Start(fakedd.Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("starting the fake Datadog API: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	for i, cores := range []float64{3.5, 1.5} {
		p := fakedd.Profile{ID: "prof-" + strconv.Itoa(i), Service: service,
			Data: fakedd.SyntheticCPUProfile(i+1, cores, time.Minute)}
		if err := srv.AddProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, srv: srv, dir: t.TempDir(), served: []string{"prof-0", "prof-1"}}
	e.ca = filepath.Join(e.dir, "ca.pem")
	if err := os.WriteFile(e.ca, srv.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

type run struct {
	code   int
	stderr string
}

// pgofetch runs the binary in e.dir with the fake's keys, CA and URL, and
// no Datadog or proxy variable of the caller's.
func (e *env) pgofetch(args ...string) run {
	e.t.Helper()
	cmd := exec.Command(testenv.Pgofetch(e.t), args...)
	cmd.Dir = e.dir
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DD_") || strings.HasPrefix(k, "PGOFETCH") ||
			strings.Contains(strings.ToLower(k), "proxy") || k == "SSL_CERT_FILE" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+e.ca, "DD_API_KEY="+e.srv.APIKey(),
		"DD_APP_KEY="+e.srv.AppKey(), "PGOFETCH_API_URL="+e.srv.URL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := run{stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("running pgofetch: %v", err)
	}
	for _, k := range []string{e.srv.APIKey(), e.srv.AppKey()} {
		if strings.Contains(r.stderr, k) {
			e.t.Errorf("pgofetch's log holds a Datadog key")
		}
	}
	return r
}

// withResult runs pgofetch with -result and returns the decoded object;
// its exit-code must be the process's.
func (e *env) withResult(args ...string) (Result, run) {
	e.t.Helper()
	file := filepath.Join(e.dir, "result.json")
	os.Remove(file)
	r := e.pgofetch(append([]string{"-result", file}, args...)...)
	data, err := os.ReadFile(file)
	if err != nil {
		e.t.Fatalf("no -result file (exit %d): %v\n%s", r.code, err, r.stderr)
	}
	if n := bytes.Count(data, []byte("\n")); n != 1 || data[len(data)-1] != '\n' {
		e.t.Errorf("-result holds %d lines, want one JSON object and a newline:\n%s", n, data)
	}
	var res Result
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		e.t.Fatalf("-result is not the documented object: %v\n%s", err, data)
	}
	if res.ExitCode != r.code {
		e.t.Errorf("exit-code %d, but pgofetch exited %d", res.ExitCode, r.code)
	}
	if res.Version == "" {
		e.t.Errorf("no version in %s", data)
	}
	return res, r
}

// checkProfile checks that res.Path describes the file there: its size,
// and its samples as google/pprof counts them.
func (e *env) checkProfile(res Result) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dir, res.Path))
	if err != nil {
		e.t.Fatalf("path %q: %v", res.Path, err)
	}
	if res.Bytes != int64(len(data)) {
		e.t.Errorf("bytes %d, the file has %d", res.Bytes, len(data))
	}
	p, err := profile.ParseData(data)
	if err != nil {
		e.t.Fatalf("%s is not a profile: %v", res.Path, err)
	}
	if res.Samples != int64(len(p.Sample)) {
		e.t.Errorf("samples %d, pprof counts %d", res.Samples, len(p.Sample))
	}
}

func (e *env) checkIDs(res Result, want []string) {
	e.t.Helper()
	if !reflect.DeepEqual(res.ProfileIDs, want) && !(len(want) == 0 && len(res.ProfileIDs) == 0) {
		e.t.Errorf("profile-ids %q, want %q", res.ProfileIDs, want)
	}
	dq := ""
	if len(want) > 0 {
		dq = "profile-id:(" + strings.Join(want, " OR ") + ")"
	}
	if res.DebugQuery != dq {
		e.t.Errorf("debug-query %q, want %q", res.DebugQuery, dq)
	}
}

// Every outcome of a Datadog query, in the order a build sees them.
func TestResultOutcomesDatadog(t *testing.T) {
	e := newEnv(t)
	query := "service:" + service + " env:prod"
	for _, endpoint := range []string{"gopgo", "legacy"} {
		t.Run(endpoint, func(t *testing.T) {
			e.t = t
			dest := endpoint + "/default.pgo"
			os.MkdirAll(filepath.Join(e.dir, endpoint), 0o755)

			res, _ := e.withResult("-endpoint", endpoint, query, dest)
			if res.Outcome != "written" || !res.Changed || res.Path != dest || res.Dest != dest ||
				res.Error != "" || res.ErrorCode != 0 {
				t.Fatalf("first run: %+v", res)
			}
			e.checkProfile(res)
			e.checkIDs(res, e.served)
			var got []string
			for _, s := range res.Sources {
				if s.Source != "" || s.Samples <= 0 || s.CPUCores <= 0 || s.Age <= 0 {
					t.Errorf("source %+v: want a profile-id, samples, cpu-cores and age", s)
				}
				got = append(got, s.ProfileID)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, e.served) {
				t.Errorf("sources %q, want the profiles served %q", got, e.served)
			}

			res, _ = e.withResult("-endpoint", endpoint, query, dest)
			if res.Outcome != "unchanged" || res.Changed || res.Path != dest {
				t.Fatalf("second run: %+v", res)
			}
			e.checkProfile(res)
			e.checkIDs(res, e.served)

			res, _ = e.withResult("-endpoint", endpoint, "-max-age", "1h", query, dest)
			if res.Outcome != "skipped" || res.Changed || res.Path != dest || len(res.Sources) != 0 {
				t.Fatalf("-max-age: %+v", res)
			}
			// What was in place, read back: ids from its provenance comment.
			e.checkProfile(res)
			e.checkIDs(res, e.served)

			e.srv.SetOutage(true)
			defer e.srv.SetOutage(false)
			before, _ := os.ReadFile(filepath.Join(e.dir, dest))
			res, r := e.withResult("-endpoint", endpoint, "-timeout", "2s", query, dest)
			if res.Outcome != "failed" || res.ExitCode != 0 || res.ErrorCode == 0 || res.Error == "" ||
				res.Changed || res.Path != dest {
				t.Fatalf("outage: %+v", res)
			}
			if !strings.Contains(r.stderr, res.Error) {
				t.Errorf("the error %q is not the one logged:\n%s", res.Error, r.stderr)
			}
			after, _ := os.ReadFile(filepath.Join(e.dir, dest))
			if !bytes.Equal(before, after) {
				t.Errorf("the outage changed %s", dest)
			}
			e.checkProfile(res)
			e.checkIDs(res, e.served)

			res, _ = e.withResult("-endpoint", endpoint, "-timeout", "2s", "-fail", query, dest)
			if res.Outcome != "failed" || res.ExitCode != res.ErrorCode || res.ExitCode == 0 {
				t.Fatalf("outage with -fail: %+v", res)
			}

			res, _ = e.withResult("-endpoint", endpoint, "-timeout", "2s", query, endpoint+"/none.pgo")
			if res.Outcome != "failed" || res.Path != "" || res.Samples != 0 || res.Bytes != 0 ||
				len(res.ProfileIDs) != 0 {
				t.Fatalf("outage, no profile in place: %+v", res)
			}
		})
	}
}

// The keys refused: a failure of its own code.
func TestResultAuthFailure(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(e.dir, "r.json")
	cmd := exec.Command(testenv.Pgofetch(t), "-result", file, "-api-url", e.srv.URL(),
		"service:"+service, "default.pgo")
	cmd.Env = []string{"SSL_CERT_FILE=" + e.ca, "DD_API_KEY=wrong", "DD_APP_KEY=wrong", "PATH=" + os.Getenv("PATH")}
	cmd.Dir = e.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var res Result
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "failed" || res.ErrorCode != 7 || res.ExitCode != 0 || res.Path != "" {
		t.Errorf("refused keys: %+v", res)
	}
}

// -in sources: a file, a ZIP of profiles, a net/http/pprof URL; their
// names in sources, no profile ids.
func TestResultInSources(t *testing.T) {
	e := newEnv(t)
	real := testenv.RealProfile(t)
	zipPath := filepath.Join(e.dir, "two.zip")
	writeZip(t, zipPath, map[string][]byte{
		"a.pprof": fakedd.SyntheticCPUProfile(5, 2, time.Minute),
		"b.pprof": fakedd.SyntheticCPUProfile(6, 1, time.Minute),
	})
	http := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(fakedd.SyntheticCPUProfile(7, 1, time.Second))
	}))
	defer http.Close()
	url := http.URL + "/debug/pprof/profile?seconds=1"

	res, _ := e.withResult("-in", real, "-in", zipPath, "-in", url, "default.pgo")
	if res.Outcome != "written" || res.Path != "default.pgo" {
		t.Fatalf("%+v", res)
	}
	e.checkProfile(res)
	e.checkIDs(res, nil)
	var names []string
	for _, s := range res.Sources {
		if s.ProfileID != "" || s.Samples <= 0 {
			t.Errorf("source %+v: want a source name and samples", s)
		}
		names = append(names, s.Source)
	}
	want := []string{real, zipPath + ":a.pprof", zipPath + ":b.pprof", url}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("sources %q, want %q", names, want)
	}

	// A source that breaks: failed, with the profile in place described.
	res, _ = e.withResult("-in", filepath.Join(e.dir, "missing.pprof"), "default.pgo")
	if res.Outcome != "failed" || res.ErrorCode != 3 || res.Path != "default.pgo" ||
		!strings.Contains(res.Error, "missing.pprof") {
		t.Fatalf("missing source: %+v", res)
	}
	e.checkProfile(res)
}

func writeZip(t *testing.T, path string, entries map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(entries[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A bad command line still leaves a result (when -result came first), and
// -json makes its error one JSON line.
func TestResultUsageError(t *testing.T) {
	e := newEnv(t)
	res, r := e.withResult("-json", "-profiles", "0", "-in", "x", "default.pgo")
	if res.Outcome != "failed" || res.ExitCode != 2 || res.ErrorCode != 2 ||
		!strings.Contains(res.Error, "-profiles") {
		t.Fatalf("%+v", res)
	}
	lines := jsonLines(t, r.stderr)
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["msg"] != res.Error {
		t.Errorf("a usage error with -json: want one ERROR object with the result's error, got:\n%s", r.stderr)
	}

	res, _ = e.withResult("-result-format", "yaml", "-in", "x", "default.pgo")
	if res.Outcome != "failed" || res.ExitCode != 2 || !strings.Contains(res.Error, "-result-format") {
		t.Fatalf("bad -result-format: %+v", res)
	}
}

// A -result that cannot be written: an error line; it follows -fail.
func TestResultUnwritable(t *testing.T) {
	e := newEnv(t)
	bad := filepath.Join(e.dir, "no-such-dir", "r.json")
	real := testenv.RealProfile(t)
	r := e.pgofetch("-json", "-result", bad, "-in", real, "default.pgo")
	if r.code != 0 || !strings.Contains(r.stderr, "no-such-dir") {
		t.Errorf("without -fail: exit %d, want 0 and an error naming the file:\n%s", r.code, r.stderr)
	}
	jsonLines(t, r.stderr)
	r = e.pgofetch("-fail", "-result", bad, "-in", real, "default.pgo")
	if r.code != 5 {
		t.Errorf("with -fail: exit %d, want 5 (DEST or output not written):\n%s", r.code, r.stderr)
	}
}

// -result-format github: the same values as name=value lines.
func TestResultGithubFormat(t *testing.T) {
	e := newEnv(t)
	first, _ := e.withResult("service:"+service, "default.pgo")
	file := filepath.Join(e.dir, "out.txt")
	r := e.pgofetch("-result", file, "-result-format", "github", "service:"+service, "default.pgo")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			t.Fatalf("not a name=value line: %q", sc.Text())
		}
		got[k] = v
		order = append(order, k)
	}
	want := map[string]string{
		"version": first.Version, "outcome": "unchanged", "dest": "default.pgo", "path": "default.pgo",
		"changed": "false", "samples": strconv.FormatInt(first.Samples, 10),
		"bytes": strconv.FormatInt(first.Bytes, 10), "profile-ids": strings.Join(e.served, " "),
		"debug-query": first.DebugQuery, "sources": "2", "error": "", "error-code": "0", "exit-code": "0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("github rendering:\n got %v\nwant %v", got, want)
	}
	if len(order) != len(want) {
		t.Errorf("%d lines for %d names: %q", len(order), len(want), order)
	}

	// A line break in a value (an input echoed in the error) stays on its line.
	r = e.pgofetch("-result", file, "-result-format", "github", "-in", "a\nb", "default.pgo")
	data, _ = os.ReadFile(file)
	if !bytes.Contains(data, []byte("\nerror=a b: cannot open")) {
		t.Errorf("the error's line break was not flattened:\n%s", data)
	}
}

// jsonLines parses every line of a log stream as one JSON object.
func jsonLines(t *testing.T, stream string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(stream, "\n"), "\n") {
		if line == "" && stream == "" {
			break
		}
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("log line %d is not a JSON object: %v\n%q", i+1, err, line)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := o[k].(string); !ok {
				t.Errorf("log line %d has no %s: %s", i+1, k, line)
			}
		}
		objs = append(objs, o)
	}
	return objs
}

// -json -v: every line an object, libcurl's trace too (the keys' header
// values redacted), on both Datadog endpoints, an -in URL and a failure.
func TestJSONVerboseEveryLine(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(fakedd.SyntheticCPUProfile(8, 1, time.Second))
	}))
	defer srv.Close()
	query := "service:" + service
	for _, args := range [][]string{
		{"-endpoint", "gopgo", query, "a.pgo"},
		{"-endpoint", "legacy", query, "b.pgo"},
		{"-in", srv.URL + "/debug/pprof/profile", "c.pgo"},
		{"-timeout", "2s", "-api-url", "https://127.0.0.1:1", query, "d.pgo"},
	} {
		r := e.pgofetch(append([]string{"-json", "-v"}, args...)...)
		objs := jsonLines(t, r.stderr)
		curl, keys := 0, 0
		for _, o := range objs {
			if o["msg"] != "curl" {
				continue
			}
			curl++
			if o["level"] != "DEBUG" {
				t.Errorf("a curl trace line at level %v", o["level"])
			}
			line, _ := o["line"].(string)
			if strings.HasPrefix(strings.ToUpper(line), "DD-API-KEY:") ||
				strings.HasPrefix(strings.ToUpper(line), "DD-APPLICATION-KEY:") {
				keys++
				if !strings.HasSuffix(line, ": REDACTED") {
					t.Errorf("a key header not redacted: %q", line)
				}
			}
		}
		if args[0] != "-in" && curl == 0 {
			t.Errorf("%q: no curl trace objects with -v:\n%s", args, r.stderr)
		}
		if args[0] == "-endpoint" && keys == 0 {
			t.Errorf("%q: the trace shows no key header (redacted)", args)
		}
		t.Logf("%q: %d lines, %d of them curl trace", args, len(objs), curl)
	}
}
