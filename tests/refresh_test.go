package tests

// pgofetch refresh: many main packages from one list file in one run,
// against the fake Datadog API and -in files: only changed profiles are
// written, -diff names what changed, packages run at once (shown by the
// fake holding its answers until -j requests are open, not by timing),
// bad lines are found before anything runs, one failing package does not
// stop the others.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"pgofetch/tests/fakedd"
)

// refreshResult is refresh's -result.
type refreshResult struct {
	Packages []struct {
		Package, Outcome, Path, Error string
		Changed                       bool
		ExitCode                      int `json:"exit-code"`
		ErrorCode                     int `json:"error-code"`
	}
	Changed, Failed int
}

func readRefreshResult(t *testing.T, path string) refreshResult {
	t.Helper()
	var rr refreshResult
	if err := json.Unmarshal(readFile(t, path), &rr); err != nil {
		t.Fatalf("-result %s: %v\n%s", path, err, readFile(t, path))
	}
	return rr
}

// fakeAPI starts the fake API over plain loopback HTTP, taking the marker
// keys every run is given.
func fakeAPI(t *testing.T, opts fakedd.Options) *fakedd.Server {
	t.Helper()
	opts.HTTP, opts.APIKey, opts.AppKey = true, markerAPIKey, markerAppKey
	srv, err := fakedd.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// serve makes the profile of service svc edgeProfile(edges).
func serve(t *testing.T, srv *fakedd.Server, svc string, edges []edge) {
	t.Helper()
	data := edgeProfile(t, edges, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err := srv.AddProfile(fakedd.Profile{ID: "prof-" + svc, Data: data, Service: svc}); err != nil {
		t.Fatal(err)
	}
}

// repoWithList makes a repository with the main packages' directories
// and a pgofetch.list of lines; it returns the list's path.
func repoWithList(t *testing.T, dirs []string, lines ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return writeFile(t, filepath.Join(root, "pgofetch.list"), []byte(strings.Join(lines, "\n")+"\n"))
}

// The test: three packages in one run; only the one whose profile
// changed is written, and -diff names the function made hot in it.
func TestRefreshWritesOnlyChanged(t *testing.T) {
	requireBinary(t)
	srv := fakeAPI(t, fakedd.Options{})
	before := []edge{{"main.main", "main.a", 400}, {"main.main", "main.b", 300}, {"main.a", "main.c", 300}}
	serve(t, srv, "api", before)
	serve(t, srv, "worker", []edge{{"main.main", "main.work", 10}})
	serve(t, srv, "gen", []edge{{"main.main", "main.gen", 7}, {"main.gen", "main.emit", 3}})
	dirs := []string{"cmd/api", "cmd/worker", "tools/gen"}
	list := repoWithList(t, dirs,
		"# the main packages",
		"cmd/api      'service:api env:prod'",
		"",
		"cmd/worker   \"service:worker env:prod\" -profiles 2",
		"tools/gen    -profiles 1 'service:gen'")
	root := filepath.Dir(list)
	body, res := filepath.Join(t.TempDir(), "body.md"), filepath.Join(t.TempDir(), "result.json")
	refresh := func() result {
		t.Helper()
		r := pgofetch(t, "refresh", "-api-url", srv.URL(), "-list", list, "-diff", body, "-result", res)
		if r.code != 0 {
			t.Fatal(r)
		}
		return r
	}

	r := refresh()
	data := map[string][]byte{}
	for _, d := range dirs {
		p := filepath.Join(root, d, "default.pgo")
		data[d] = readFile(t, p)
		setOld(t, p)
		if !strings.Contains(r.stderr, "pgofetch: "+d+": updated (") {
			t.Errorf("no updated line for %s\n%s", d, r)
		}
	}
	if md := string(readFile(t, body)); !strings.HasPrefix(md, "**pgofetch refresh**: 3 of 3 profiles changed") {
		t.Errorf("-diff after the first run:\n%s", md)
	}

	// The api service's profile changes: main.hot becomes its hottest.
	serve(t, srv, "api", []edge{{"main.main", "main.hot", 500}, {"main.main", "main.a", 300}, {"main.a", "main.c", 200}})
	srv.ResetRequests()
	r = refresh()
	for _, d := range dirs {
		p := filepath.Join(root, d, "default.pgo")
		same := string(readFile(t, p)) == string(data[d]) && mtime(t, p).Equal(old)
		if same == (d == "cmd/api") {
			t.Errorf("%s: unchanged %v after the second run, want %v", d, same, d != "cmd/api")
		}
		want := "pgofetch: " + d + ": unchanged ("
		if d == "cmd/api" {
			want = "pgofetch: cmd/api: updated ("
		}
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no %q line\n%s", want, r)
		}
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d API requests for 3 packages, want 3", n)
	}
	md := string(readFile(t, body))
	entered, _, _ := strings.Cut(md[strings.Index(md, "### Entered"):], "### Left")
	if !strings.HasPrefix(md, "**pgofetch refresh**: 1 of 3 profiles changed.\n") || !strings.Contains(md, "\n## cmd/api\n") ||
		strings.Contains(md, "## cmd/worker") || !strings.Contains(entered, "| `main.hot` |") {
		t.Errorf("-diff after the api profile changed:\n%s", md)
	}
	rr := readRefreshResult(t, res)
	if rr.Changed != 1 || rr.Failed != 0 || len(rr.Packages) != 3 || rr.Packages[0].Package != "cmd/api" ||
		!rr.Packages[0].Changed || rr.Packages[1].Outcome != "unchanged" {
		t.Errorf("-result: %+v", rr)
	}

	// Nothing changed: -diff is written empty, for a workflow's test -s.
	refresh()
	if st, err := os.Stat(body); err != nil || st.Size() != 0 {
		t.Errorf("-diff when nothing changed: %v, %d bytes", err, st.Size())
	}
}

// The packages fetch at once: the fake API holds every answer until -j
// requests are in flight, which a refresh going one package after the
// other never reaches. And never more than -j at once.
func TestRefreshConcurrent(t *testing.T) {
	requireBinary(t)
	dirs := []string{"a", "b", "c", "d"}
	var lines []string
	for _, d := range dirs {
		lines = append(lines, d+" 'service:"+d+"'")
	}
	list := repoWithList(t, dirs, lines...)
	for _, c := range []struct {
		jobs, gate int
		latency    time.Duration
	}{{3, 3, 0}, {2, 0, 200 * time.Millisecond}} {
		srv := fakeAPI(t, fakedd.Options{Gate: c.gate, Latency: c.latency})
		for _, d := range dirs {
			serve(t, srv, d, []edge{{"main.main", "main." + d, 5}})
		}
		r := pgofetch(t, "refresh", "-json", "-v", "-j", string(rune('0'+c.jobs)), "-api-url", srv.URL(), "-list", list)
		if r.code != 0 {
			t.Fatal(r)
		}
		if got := srv.MaxInFlight(); (c.gate > 0 && got != c.jobs) || got > c.jobs {
			t.Errorf("-j %d: %d requests in flight at most, want %d", c.jobs, got, c.jobs)
		}
		// Lines of packages at work together stay whole and say whose
		// they are: every line is one JSON object naming its package.
		done := map[string]bool{}
		for _, line := range r.lines() {
			var o map[string]any
			if err := json.Unmarshal([]byte(line), &o); err != nil {
				t.Fatalf("a stderr line is not one JSON object: %v\n%s", err, line)
			}
			pkg, _ := o["package"].(string)
			if !strings.Contains(" a b c d ", " "+pkg+" ") {
				t.Errorf("a line names no package of the list: %s", line)
			}
			if o["outcome"] == "written" || o["outcome"] == "unchanged" {
				done[pkg] = true
			}
		}
		if len(done) != len(dirs) {
			t.Errorf("-j %d: written %v, want all of %v\n%s", c.jobs, done, dirs, r)
		}
	}
}

// Every line is checked before anything runs: a bad one is a usage error
// naming the list and the line, and no package is fetched.
func TestRefreshListErrors(t *testing.T) {
	requireBinary(t)
	prof := writeFile(t, filepath.Join(t.TempDir(), "p.pprof"), edgeProfile(t, []edge{{"main.main", "main.a", 3}}, time.Unix(1e9, 0)))
	for _, c := range []struct {
		line, says string
	}{
		{"cmd/b -in " + prof + " -foo", "flag provided but not defined: -foo"},
		{"cmd/b 'service:b", "a quote is not closed"},
		{"cmd/a -in " + prof, "cmd/a is listed twice"},
		{"cmd/b -json -in " + prof, "-json is for the whole refresh"},
		{"cmd/b -in " + prof + " -profiles", "flag needs an argument: -profiles"},
		{"cmd/b -in " + prof + " -profiles 0", "-profiles"},
		{"cmd/b", "cmd/b: no QUERY or -in source"},
		{"/abs/cmd -in " + prof, "relative to the list"},
		{"cmd/b ' '", "QUERY 1 is empty"},
	} {
		list := repoWithList(t, []string{"cmd/a", "cmd/b"}, "# packages", "cmd/a -in "+prof, c.line)
		r := pgofetch(t, "refresh", "-list", list)
		if r.code != 2 || !strings.Contains(r.stderr, list+":3: ") || !strings.Contains(r.stderr, c.says) {
			t.Errorf("line %q: want exit 2 naming %s:3 and saying %q\n%s", c.line, list, c.says, r)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(list), "cmd/a/default.pgo")); err == nil {
			t.Errorf("line %q: cmd/a was refreshed before the list was checked", c.line)
		}
	}
	list := repoWithList(t, []string{"cmd/a"}, "cmd/a -in "+prof)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"refresh", "-list", list, "cmd/nope"}, "cmd/nope is not in " + list},
		{[]string{"refresh", "-list", list + ".missing"}, "cannot read " + list + ".missing"},
		{[]string{"refresh", "-list", list, "-j", "0"}, "want 1 to 64"},
		{[]string{"refresh", "-list", list, "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"refresh", "-list", list, "-timeout", "x"}, "-timeout"},
	} {
		if r := pgofetch(t, c.args...); r.code != 2 || !strings.Contains(r.stderr, c.says) {
			t.Errorf("%v: want exit 2 saying %q\n%s", c.args, c.says, r)
		}
	}
	if r := pgofetch(t, "refresh", "-h"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: pgofetch refresh") {
		t.Errorf("refresh -h:\n%s", r)
	}
}

// One package failing leaves the others refreshed and its own profile as
// it was; the run exits 0, or with -fail that package's code.
func TestRefreshOnePackageFails(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	prof := writeFile(t, filepath.Join(dir, "p.pprof"), edgeProfile(t, []edge{{"main.main", "main.a", 3}}, time.Unix(1e9, 0)))
	list := repoWithList(t, []string{"cmd/a", "cmd/b", "cmd/c"},
		"cmd/a -in "+prof, "cmd/b -in missing.pprof", "cmd/c -in "+prof+" -noinline=false")
	root := filepath.Dir(list)
	kept := writeFile(t, filepath.Join(root, "cmd/b/default.pgo"), []byte("the last good profile"))
	res := filepath.Join(dir, "result.json")
	for _, fail := range []bool{false, true} {
		args := []string{"refresh", "-list", list, "-result", res}
		if fail {
			args = append(args, "-fail")
		}
		r := pgofetch(t, args...)
		if want := map[bool]int{false: 0, true: 3}[fail]; r.code != want {
			t.Errorf("-fail=%v: exit %d, want %d\n%s", fail, r.code, want, r)
		}
		if !regexp.MustCompile(`(?m)^pgofetch: cmd/b: failed: .*missing\.pprof`).MatchString(r.stderr) {
			t.Errorf("no failed line for cmd/b\n%s", r)
		}
		for _, d := range []string{"cmd/a", "cmd/c"} {
			if _, err := os.Stat(filepath.Join(root, d, "default.pgo")); err != nil {
				t.Errorf("%s not refreshed beside a failing package: %v", d, err)
			}
		}
		if string(readFile(t, kept)) != "the last good profile" {
			t.Errorf("the failing package's profile was touched")
		}
		rr := readRefreshResult(t, res)
		if rr.Failed != 1 || rr.Packages[1].Package != "cmd/b" || rr.Packages[1].ErrorCode != 3 ||
			rr.Packages[1].ExitCode != map[bool]int{false: 0, true: 3}[fail] {
			t.Errorf("-fail=%v: -result %+v", fail, rr)
		}
	}
}

// -out writes DIR/PKG/default.pgo, creating the directories, and nothing
// beside the list; PKG arguments pick packages; a line's relative -in is
// read from the list's directory.
func TestRefreshOut(t *testing.T) {
	requireBinary(t)
	list := repoWithList(t, nil, "cmd/a -in p.pprof", "cmd/b -in p.pprof", "tools/c/ -in p.pprof")
	root := filepath.Dir(list)
	writeFile(t, filepath.Join(root, "p.pprof"), edgeProfile(t, []edge{{"main.main", "main.a", 3}}, time.Unix(1e9, 0)))
	out := filepath.Join(t.TempDir(), "out")
	r := pgofetch(t, "refresh", "-fail", "-list", list, "-out", out, "cmd/a", "tools/c")
	if r.code != 0 {
		t.Fatal(r)
	}
	for d, want := range map[string]bool{"cmd/a": true, "cmd/b": false, "tools/c": true} {
		_, err := os.Stat(filepath.Join(out, d, "default.pgo"))
		if (err == nil) != want {
			t.Errorf("%s/%s/default.pgo: exists %v, want %v", out, d, err == nil, want)
		}
	}
	if got := listDir(t, root); strings.Join(got, " ") != "p.pprof pgofetch.list" {
		t.Errorf("refresh -out wrote beside the list: %v", got)
	}
}
