// Package datadog tests pgofetch's Datadog client against the fake API in
// tests/fakedd, which is as strict as docs/datadog-api.md says the
// real one is: a request it accepts is one Datadog would accept.
package datadog

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"pgofetch/tests/fakedd"
)

// The fake answers gopgo with the top profiles by CPU cores: served in
// that order, and merged in that order.
func servedOrder(t *testing.T, e *env) []string {
	t.Helper()
	ps, err := e.srv.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].CPUCores > ps[j].CPUCores })
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestGopgoMergesLikePprof(t *testing.T) {
	t.Parallel()
	for _, method := range []string{fakedd.ZipDeflate, fakedd.ZipStore, fakedd.ZipMixed} {
		method := method
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fakedd.Options{ZipMethod: method})
			dest := filepath.Join(t.TempDir(), "default.pgo")
			r := e.run("-fail", "-trim=false", "-comment=false", "service:foo env:prod", dest)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			ids := servedOrder(t, e)
			if !bytes.Equal(gunzipFile(t, dest), e.oracle(ids...)) {
				t.Errorf("merged profile differs from google/pprof's merge of %v", ids)
			}
			want := "debug-query=\"profile-id:(" + strings.Join(ids, " OR ") + ")\""
			if !strings.Contains(r.stderr, want) {
				t.Errorf("final line lacks %s:\n%s", want, r.stderr)
			}
			for _, id := range ids {
				if !regexp.MustCompile(`INF extracted profile profile-id=` + id + ` samples=\d+ duration=\S+ cpu-cores=[\d.]+ age=`).MatchString(r.stderr) {
					t.Errorf("no extracted-profile line for %s:\n%s", id, r.stderr)
				}
			}
			reqs := e.srv.Requests()
			if len(reqs) != 1 || reqs[0].Path != "/api/unstable/profiles/gopgo" || reqs[0].Status != 200 {
				t.Fatalf("want one accepted gopgo request, got %+v", reqs)
			}
			if !strings.HasPrefix(reqs[0].UserAgent, "pgofetch/") || reqs[0].ContentType != "application/json" {
				t.Errorf("request headers: user agent %q, content type %q", reqs[0].UserAgent, reqs[0].ContentType)
			}
		})
	}
}

// The request body: one query per QUERY, runtime:go appended when
// missing, the window in Datadog's layout, -profiles as the limit.
func TestRequestBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := e.run("-fail", "-profiles", "2", "-from", "24h", "service:foo env:prod", "service:bar language:go", dest)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	reqs := e.srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("want one request, got %d", len(reqs))
	}
	var body struct {
		Queries []struct {
			Filter struct{ From, To, Query string }
			Sort   struct{ Order, Field string }
			Limit  int
		}
	}
	if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil {
		t.Fatalf("body %q: %v", reqs[0].Body, err)
	}
	if len(body.Queries) != 2 {
		t.Fatalf("want 2 queries, got %+v", body)
	}
	q0, q1 := body.Queries[0], body.Queries[1]
	if q0.Filter.Query != "service:foo env:prod runtime:go" || q1.Filter.Query != "service:bar language:go" {
		t.Errorf("queries: %q, %q", q0.Filter.Query, q1.Filter.Query)
	}
	from, err1 := time.Parse("2006-01-02T15:04:05Z", q0.Filter.From)
	to, err2 := time.Parse("2006-01-02T15:04:05Z", q0.Filter.To)
	if err1 != nil || err2 != nil || to.Sub(from) != 24*time.Hour || time.Since(to) > time.Minute {
		t.Errorf("window %s .. %s", q0.Filter.From, q0.Filter.To)
	}
	if q0.Limit != 2 || q0.Sort.Order != "desc" || q0.Sort.Field != "@metrics.core_cpu_cores" {
		t.Errorf("limit/sort: %+v", q0)
	}
	// 2 per query, from the 3 served: at most 4 entries, profile ids in the debug query
	if !strings.Contains(r.stderr, "debug-query=\"profile-id:(") {
		t.Errorf("no debug query:\n%s", r.stderr)
	}
}

func TestLegacyEndpointMergesLikePprof(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := e.run("-fail", "-trim=false", "-comment=false", "-endpoint", "legacy", "service:foo env:prod", dest)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	ids := servedOrder(t, e)
	if !bytes.Equal(gunzipFile(t, dest), e.oracle(ids...)) {
		t.Errorf("merged profile differs from google/pprof's merge of %v", ids)
	}
	var list, downloads int
	for _, q := range e.srv.Requests() {
		switch {
		case q.Path == "/api/unstable/profiles/list" && q.Status == 200:
			list++
		case strings.HasSuffix(q.Path, "/download") && q.Status == 200:
			downloads++
		default:
			t.Errorf("unexpected request %s %s -> %d", q.Method, q.Path, q.Status)
		}
	}
	if list != 1 || downloads != len(ids) {
		t.Errorf("want 1 list and %d downloads, got %d and %d", len(ids), list, downloads)
	}
	if !strings.Contains(r.stderr, "INF searching profiles query=\"service:foo env:prod\"") ||
		!strings.Contains(r.stderr, "INF downloading profile service=") {
		t.Errorf("legacy log lines missing:\n%s", r.stderr)
	}
}

// A 404 from the gopgo endpoint falls back to list + download.
func TestGopgo404FallsBackToLegacy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	if err := e.srv.SetFault("404:1"); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := e.run("-fail", "-trim=false", "-comment=false", "service:foo", dest)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "WRN the gopgo endpoint answered 404; using list and download") {
		t.Errorf("no fallback warning:\n%s", r.stderr)
	}
	if !bytes.Equal(gunzipFile(t, dest), e.oracle(servedOrder(t, e)...)) {
		t.Errorf("merged profile differs from google/pprof's")
	}
}

// QUERY arguments and -in sources merge in one run: Datadog's first.
func TestQueriesAndInSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest := filepath.Join(t.TempDir(), "default.pgo")
	local := filepath.Join(e.profDir, "0789ab-synth-raw.pprof")
	r := e.run("-fail", "-trim=false", "-comment=false", "-in", local, "service:foo", dest)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	ids := append(servedOrder(t, e), "0789ab-synth-raw")
	if !bytes.Equal(gunzipFile(t, dest), e.oracle(ids...)) {
		t.Errorf("merged profile differs from google/pprof's merge of %v", ids)
	}
}

// The comments say where the profile came from, and go tool pprof shows them.
func TestProvenanceComments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest := filepath.Join(t.TempDir(), "default.pgo")
	if r := e.run("-fail", "service:foo env:prod", dest); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	out, err := exec.Command("go", "tool", "pprof", "-comments", dest).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -comments: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, `pgofetch: Datadog query "service:foo env:prod runtime:go", last 72h0m0s, top 5 by CPU cores`) {
		t.Errorf("no query comment:\n%s", text)
	}
	if !strings.Contains(text, "pgofetch: profile-id:("+strings.Join(servedOrder(t, e), " OR ")+")") {
		t.Errorf("no profile ids comment:\n%s", text)
	}
	// The same profiles again: DEST unchanged (the comments hold no dates).
	st1, _ := os.Stat(dest)
	time.Sleep(10 * time.Millisecond)
	r := e.run("-fail", "service:foo env:prod", dest)
	st2, _ := os.Stat(dest)
	if r.code != 0 || !st1.ModTime().Equal(st2.ModTime()) || !strings.Contains(r.stderr, "changed=false") {
		t.Errorf("second run with the same profiles rewrote DEST:\n%s", r.stderr)
	}
	// Changed profiles: rewritten.
	e.srv.SetGeneration(1)
	r = e.run("-fail", "service:foo env:prod", dest)
	if r.code != 0 || !strings.Contains(r.stderr, "changed=true") {
		t.Errorf("changed profiles did not rewrite DEST:\n%s", r.stderr)
	}
}

// -max-age: a young DEST means no request at all.
func TestMaxAge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest, old, then := existingDest(t) // an hour old
	r := e.run("-fail", "-max-age", "2h", "service:foo", dest)
	if r.code != 0 || !strings.Contains(r.stderr, "PGO file is younger than -max-age, not fetching") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("%d requests made despite -max-age", n)
	}
	assertUntouched(t, dest, old, then)
	r = e.run("-fail", "-max-age", "30m", "service:foo", dest)
	if r.code != 0 || len(e.srv.Requests()) != 1 {
		t.Errorf("an older DEST was not refreshed: exit %d\n%s", r.code, r.stderr)
	}
}
