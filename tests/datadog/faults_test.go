package datadog

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"pgofetch/tests/fakedd"
)

// Each fault the API can show: the exit code without -fail (0, with a
// warning) and with it, the message, DEST untouched, no key anywhere.
func TestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, fault string
		args        []string
		code        int    // with -fail
		msg         string // in the ERR line
	}{
		{"401", "401", nil, 7, "HTTP 401 Unauthorized from 127.0.0.1: check DD_API_KEY and DD_APP_KEY"},
		{"403", "403", nil, 7, "the application key has the continuous_profiler_pgo_read scope"},
		{"404 list", "404", []string{"-endpoint", "legacy"}, 6, "HTTP 404 Not Found from 127.0.0.1: check the query and the endpoint"},
		{"503 forever", "503", []string{"-timeout", "4s"}, 3, "HTTP 503 Service Unavailable from 127.0.0.1: the Datadog service failed"},
		{"connection reset", "reset", []string{"-timeout", "4s"}, 3, "cannot fetch from 127.0.0.1"},
		{"truncated body", "truncate", []string{"-timeout", "4s"}, 3, "cannot fetch from 127.0.0.1"},
		{"slow drip past -timeout", "drip", []string{"-timeout", "2s"}, 3, "timed out talking to 127.0.0.1 (raise -timeout?)"},
		{"invalid ZIP", "badzip", nil, 4, "ZIP"},
		{"empty ZIP", "emptyzip", nil, 6, "no profiles matched the queries"},
		{"non-pprof entry", "notpprof", nil, 4, ""},
		{"invalid list JSON", "badzip", []string{"-endpoint", "legacy"}, 4, "list answer is not valid JSON"},
		{"redirect", "redirect", nil, 3, "redirecting to localhost: not followed, the keys go to the API host only"},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fakedd.Options{DripInterval: 500 * time.Millisecond})
			for _, fail := range []bool{false, true} {
				if err := e.srv.SetFault(c.fault); err != nil {
					t.Fatal(err)
				}
				dest, old, then := existingDest(t)
				args := append([]string{}, c.args...)
				if fail {
					args = append(args, "-fail")
				}
				r := e.run(append(args, "-v", "service:foo", dest)...)
				want := 0
				if fail {
					want = c.code
				}
				if r.code != want {
					t.Errorf("-fail=%v: exit %d, want %d\n%s", fail, r.code, want, r.stderr)
				}
				errLine := ""
				for _, l := range strings.Split(r.stderr, "\n") {
					if strings.HasPrefix(l, "ERR ") {
						errLine = l
					}
				}
				if errLine == "" || !strings.Contains(errLine, c.msg) {
					t.Errorf("-fail=%v: ERR line %q lacks %q\n%s", fail, errLine, c.msg, r.stderr)
				}
				warned := strings.Contains(r.stderr, "WRN pgofetch failed, but -fail is not set") &&
					strings.Contains(r.stderr, "an older profile is still in place")
				if warned == fail {
					t.Errorf("-fail=%v: fail-open warning shown=%v\n%s", fail, warned, r.stderr)
				}
				assertUntouched(t, dest, old, then)
			}
			e.assertNoKeysInDir(filepath.Dir(e.caFile))
			for _, q := range e.srv.RedirectRequests() {
				if q.APIKey != fakedd.KeyMissing || q.AppKey != fakedd.KeyMissing || q.APIKeySeen || q.AppKeySeen {
					t.Errorf("the redirect target received a key: %+v", q)
				}
			}
		})
	}
}

// 429 with a reset, and 500, are retried and then succeed.
func TestRetries(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ fault, status string }{{"429:2", "429"}, {"500:1", "500"}, {"reset:1", "0"}} {
		c := c
		t.Run(c.fault, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fakedd.Options{})
			if err := e.srv.SetFault(c.fault); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "default.pgo")
			r := e.run("-fail", "service:foo", dest)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "WRN retrying host=127.0.0.1 status="+c.status) {
				t.Errorf("no retry line:\n%s", r.stderr)
			}
			if _, err := os.Stat(dest); err != nil {
				t.Errorf("DEST not written after the retries: %v", err)
			}
			if c.fault == "429:2" && r.took < 2*time.Second {
				t.Errorf("took %v: X-RateLimit-Reset (1 s, twice) not honoured", r.took)
			}
		})
	}
}

// 4xx other than 429 is not retried.
func TestNoRetryOn4xx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	if err := e.srv.SetFault("403"); err != nil {
		t.Fatal(err)
	}
	r := e.run("service:foo", filepath.Join(t.TempDir(), "default.pgo"))
	if r.code != 0 || strings.Contains(r.stderr, "retrying") || len(e.srv.Requests()) != 1 {
		t.Errorf("403 was retried (%d requests):\n%s", len(e.srv.Requests()), r.stderr)
	}
}

func TestKeysAndSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest := filepath.Join(t.TempDir(), "default.pgo")
	cases := []struct {
		name string
		vars map[string]string
		args []string
		code int
		msg  string
	}{
		{"no API key", map[string]string{"DD_APP_KEY": e.srv.AppKey()}, []string{"-api-url", e.srv.URL()}, 7, "DD_API_KEY is not set"},
		{"no app key", map[string]string{"DD_API_KEY": e.srv.APIKey()}, []string{"-api-url", e.srv.URL()}, 7, "DD_APP_KEY is not set"},
		{"wrong key", map[string]string{"DD_API_KEY": "wrong", "DD_APP_KEY": e.srv.AppKey()}, []string{"-api-url", e.srv.URL()}, 7, "check DD_API_KEY and DD_APP_KEY"},
		{"unknown site", map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey(), "DD_SITE": "datadoghq.example"}, nil, 2, "DD_SITE=datadoghq.example is not a known Datadog site"},
		{"plain http elsewhere", map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey()}, []string{"-api-url", "http://api.example.test"}, 2, "plain http would send the keys in the clear"},
	}
	for _, c := range cases {
		r := e.runEnv(c.vars, append(c.args, "-fail", "service:foo", dest)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%s: exit %d, want %d with %q\n%s", c.name, r.code, c.code, c.msg, r.stderr)
		}
	}
	// PGOFETCH_API_URL stands for -api-url
	r := e.runEnv(map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey(),
		"PGOFETCH_API_URL": e.srv.URL()}, "-fail", "service:foo", dest)
	if r.code != 0 {
		t.Errorf("PGOFETCH_API_URL: exit %d\n%s", r.code, r.stderr)
	}
}

// -v adds libcurl's trace, with the key headers blanked out.
func TestVerboseTraceHidesKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	r := e.run("-fail", "-v", "service:foo", filepath.Join(t.TempDir(), "default.pgo"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "curl > DD-API-KEY: REDACTED") || !strings.Contains(r.stderr, "curl > DD-APPLICATION-KEY: REDACTED") {
		t.Errorf("trace does not show the redacted key headers:\n%s", r.stderr)
	}
	// runEnv already asserted that no key value is in the output
}

// A list answer over -limit json-bytes is refused, naming the limit.
func TestJSONLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	dest, old, then := existingDest(t)
	r := e.run("-fail", "-endpoint", "legacy", "-limit", "json-bytes=16", "service:foo", dest)
	if r.code != 4 || !strings.Contains(r.stderr, "answer is larger than 16 bytes (-limit source-bytes, json-bytes)") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	assertUntouched(t, dest, old, then)
}

// A TLS failure (a CA that did not sign the server's certificate) and a
// DNS failure: no answer, an error that names the host and what to check.
func TestTLSAndDNSFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	other := newEnv(t, fakedd.Options{}) // its CA did not sign e's certificate
	e.caFile = other.caFile
	dest, old, then := existingDest(t)
	r := e.run("-fail", "service:foo", dest)
	if r.code != 3 || !strings.Contains(r.stderr, "TLS with 127.0.0.1 failed (check the site, and SSL_CERT_FILE for a custom CA)") {
		t.Errorf("TLS: exit %d\n%s", r.code, r.stderr)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("TLS: %d requests reached the server over an unverified connection", n)
	}
	r = e.runEnv(map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey()},
		"-fail", "-api-url", "https://app.pgofetch-test.invalid", "service:foo", dest)
	if r.code != 3 || !strings.Contains(r.stderr, "cannot resolve host app.pgofetch-test.invalid (check the site or URL)") {
		t.Errorf("DNS: exit %d\n%s", r.code, r.stderr)
	}
	assertUntouched(t, dest, old, then)
}

// Over plain http (allowed to loopback only) the keys would be readable by
// a proxy, so pgofetch bypasses the proxy variables then.
func TestPlainHTTPSkipsProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{HTTP: true})
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer proxy.Close()
	r := e.runEnv(map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey(),
		"http_proxy": proxy.URL, "HTTP_PROXY": proxy.URL, "all_proxy": proxy.URL},
		"-fail", "-api-url", e.srv.URL(), "service:foo", filepath.Join(t.TempDir(), "default.pgo"))
	if r.code != 0 || proxied.Load() != 0 || len(e.srv.Requests()) != 1 {
		t.Errorf("exit %d, %d requests through the proxy, %d at the API\n%s", r.code, proxied.Load(), len(e.srv.Requests()), r.stderr)
	}
}

// An answer cut off is fetched again, and only the whole one is read:
// nothing of the cut one is merged (DEST is what an uncut answer makes).
func TestRetryAfterCutAnswer(t *testing.T) {
	t.Parallel()
	for _, method := range []string{fakedd.ZipStore, fakedd.ZipDeflate} {
		method := method
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fakedd.Options{ZipMethod: method})
			// A small profile with the most CPU comes first, so the
			// first half of the answer holds it whole.
			small := fakedd.SyntheticCPUProfile(7, 9, time.Minute)
			if err := os.WriteFile(filepath.Join(e.profDir, "0000ff-small.pprof"), small, 0o644); err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(t.TempDir(), "want.pgo")
			if r := e.run("-fail", "service:foo", want); r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if err := e.srv.SetFault("truncate:1"); err != nil {
				t.Fatal(err)
			}
			got := filepath.Join(t.TempDir(), "got.pgo")
			r := e.run("-fail", "-v", "service:foo", got)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "WRN retrying host=127.0.0.1 status=200 error=\"cannot fetch from 127.0.0.1: transfer closed") {
				t.Errorf("no retry line:\n%s", r.stderr)
			}
			w, err1 := os.ReadFile(want)
			g, err2 := os.ReadFile(got)
			if err1 != nil || err2 != nil || !bytes.Equal(w, g) {
				t.Errorf("DEST after the retry differs from an uncut answer's (%v, %v)", err1, err2)
			}
		})
	}
}

// A bad setting (where the API is) is a usage error: exit 2 whatever
// -fail says, before any request; an unreachable host is not a bad
// setting, so it follows -fail (3 with it, 0 without). An empty -api-url=
// is no -api-url: PGOFETCH_API_URL, then DD_SITE, apply.
func TestBadSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	keys := func(more ...string) map[string]string {
		m := map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey()}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		code int // with -fail; 2 means whatever -fail says
		msg  string
	}{
		{"-api-url not a URL", keys(), []string{"-api-url", "not a url"}, 2, "-api-url not a url: want an http:// or https:// URL"},
		{"-api-url ftp", keys(), []string{"-api-url", "ftp://ftp.example.test/"}, 2, "-api-url ftp://ftp.example.test/: want an http:// or https:// URL"},
		{"-api-url with a space", keys(), []string{"-api-url", "https://app.example .test"}, 2, "-api-url https://app.example .test: a URL holds no spaces"},
		{"-api-url with a line break", keys(), []string{"-api-url", "https://app.example.test\nX: y"}, 2, "-api-url holds a control character"},
		{"-api-url with a password", keys(), []string{"-api-url", "ftp://user:s3cret@app.example.test"}, 2, "-api-url must not hold a user name or password"},
		{"-api-url with a bad port", keys(), []string{"-api-url", "https://app.example.test:99999"}, 2, "-api-url https://app.example.test:99999: not a valid host and port"},
		{"PGOFETCH_API_URL garbage", keys("PGOFETCH_API_URL", "garbage"), nil, 2, "PGOFETCH_API_URL garbage: want an http:// or https:// URL"},
		{"DD_SITE unknown", keys("DD_SITE", "bogus.example"), nil, 2, "DD_SITE=bogus.example is not a known Datadog site"},
		{"plain http elsewhere", keys(), []string{"-api-url", "http://api.example.test"}, 2, "plain http would send the keys in the clear"},
		{"empty -api-url falls back to DD_SITE", keys("DD_SITE", "bogus.example"), []string{"-api-url="}, 2, "DD_SITE=bogus.example is not a known Datadog site"},
		{"unreachable host", keys(), []string{"-api-url", "https://app.pgofetch-test.invalid"}, 3, "cannot resolve host app.pgofetch-test.invalid"},
	}
	for _, c := range cases {
		for _, fail := range []bool{false, true} {
			dest, old, then := existingDest(t)
			args := append([]string{}, c.args...)
			if fail {
				args = append(args, "-fail")
			}
			e.srv.ResetRequests()
			r := e.runEnv(c.vars, append(args, "service:foo", dest)...)
			want := c.code
			if !fail && c.code != 2 {
				want = 0
			}
			if r.code != want || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("%s, -fail=%v: exit %d, want %d with %q\n%s", c.name, fail, r.code, want, c.msg, r.stderr)
			}
			if strings.Contains(r.stderr, "s3cret") || strings.Contains(r.stderr, "X: y") {
				t.Errorf("%s, -fail=%v: the message echoes a password or a line break\n%s", c.name, fail, r.stderr)
			}
			if c.code == 2 && !strings.Contains(r.stderr, "usage: pgofetch") {
				t.Errorf("%s, -fail=%v: no usage\n%s", c.name, fail, r.stderr)
			}
			if n := len(e.srv.Requests()); n != 0 {
				t.Errorf("%s, -fail=%v: %d requests reached the API", c.name, fail, n)
			}
			assertUntouched(t, dest, old, then)
		}
	}
	// -api-url= is unset: PGOFETCH_API_URL is used.
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := e.runEnv(keys("PGOFETCH_API_URL", e.srv.URL(), "DD_SITE", "bogus.example"), "-api-url=", "-fail", "service:foo", dest)
	if _, err := os.Stat(dest); r.code != 0 || err != nil {
		t.Errorf("-api-url= with PGOFETCH_API_URL: exit %d, DEST: %v\n%s", r.code, err, r.stderr)
	}
	// DD_SITE and PGOFETCH_API_URL are not read by a run without QUERY.
	src := filepath.Join(e.profDir, "0789ab-synth-raw.pprof")
	r = e.runEnv(map[string]string{"DD_SITE": "bogus.example", "PGOFETCH_API_URL": "garbage"}, "-fail", "-in", src, dest)
	if r.code != 0 {
		t.Errorf("-in only, with DD_SITE and PGOFETCH_API_URL bad: exit %d\n%s", r.code, r.stderr)
	}
}

// A key holding CR, LF or another control byte would inject a header: it
// is refused before any request, naming the variable and never its
// value; like a missing key, that follows -fail (7 with it, 0 without).
func TestKeyWithControlBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakedd.Options{})
	for _, name := range []string{"DD_API_KEY", "DD_APP_KEY"} {
		for _, tail := range []string{"\r\nX-Injected: yes", "\n", "\x01", "\x7f", "\tX"} {
			for _, fail := range []bool{false, true} {
				vars := map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey()}
				bad := vars[name] + tail
				vars[name] = bad
				dest, old, then := existingDest(t)
				e.srv.ResetRequests()
				args := []string{"-api-url", e.srv.URL(), "service:foo", dest}
				want := 0
				if fail {
					args, want = append([]string{"-fail"}, args...), 7
				}
				r := e.runEnv(vars, args...)
				if r.code != want || !strings.Contains(r.stderr, name+" holds a control character (a line break?); nothing was sent") {
					t.Errorf("%s+%q, -fail=%v: exit %d, want %d\n%s", name, tail, fail, r.code, want, r.stderr)
				}
				if strings.Contains(r.stderr, bad) || strings.Contains(r.stderr, "X-Injected") {
					t.Errorf("%s+%q: the value is in the output", name, tail)
				}
				if n := len(e.srv.Requests()); n != 0 {
					t.Errorf("%s+%q: %d requests reached the API", name, tail, n)
				}
				assertUntouched(t, dest, old, then)
			}
		}
	}
}

// Profile ids and list answers that are not what Datadog sends: invalid
// UTF-8, a NUL, an id of 1 MB, bytes after the JSON answer. Each is
// refused with a message that says which (exit 4 with -fail, 0 without),
// no request goes out with such an id, and every -json line is JSON.
func TestOddIDsAndAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, id, fault string
		legacy          bool
		msg             string
	}{
		{"gopgo: id not UTF-8", "bad\xffid", "", false, "Datadog answer: profile 1: its id holds byte 0xff at byte 3, where Datadog's ids are printable ASCII"},
		{"gopgo: NUL in an id", "ab\x00cd", "", false, "Datadog answer: ZIP: the name of entry 0 holds a NUL byte"},
		{"gopgo: id of 1000 bytes", strings.Repeat("i", 1000), "", false, "Datadog answer: profile 1: its id is 1000 bytes long, more than 256"},
		{"list: id of 1 MB", strings.Repeat("i", 1<<20), "", true, "list answer: data[0]: attributes.id is 1048576 bytes long, more than 256"},
		{"list: NUL in an id", "ab\x00cd", "", true, `list answer: a string holds \u0000 (a NUL byte) at byte`},
		{"list: id not UTF-8", "", fakedd.FaultBadUTF8, true, "list answer: data[0]: attributes.id holds byte 0xff at byte"},
		{"list: bytes after the answer", "", fakedd.FaultTrailing, true, "list answer: more bytes after its JSON value, from byte"},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, fakedd.Options{})
			if c.id != "" {
				// The most CPU, so it comes first.
				p := fakedd.Profile{ID: c.id, Data: fakedd.SyntheticCPUProfile(9, 64, time.Minute)}
				if err := e.srv.AddProfile(p); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.srv.SetFault(c.fault); err != nil {
				t.Fatal(err)
			}
			for _, fail := range []bool{false, true} {
				dest, old, then := existingDest(t)
				args := []string{"-json", "service:foo", dest}
				if c.legacy {
					args = append([]string{"-endpoint", "legacy"}, args...)
				}
				want := 0
				if fail {
					args, want = append([]string{"-fail"}, args...), 4
				}
				e.srv.ResetRequests()
				r := e.run(args...)
				if r.code != want {
					t.Errorf("-fail=%v: exit %d, want %d\n%s", fail, r.code, want, r.stderr)
				}
				errs := 0
				for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
					var o struct{ Level, Msg string }
					if !utf8.ValidString(l) || json.Unmarshal([]byte(l), &o) != nil || o.Level == "" {
						t.Errorf("-fail=%v: not a JSON log line: %q", fail, l)
					}
					if o.Level == "ERROR" {
						errs++
						if !strings.Contains(o.Msg, c.msg) {
							t.Errorf("-fail=%v: error %q lacks %q", fail, o.Msg, c.msg)
						}
					}
				}
				if errs != 1 {
					t.Errorf("-fail=%v: %d ERROR lines, want 1\n%s", fail, errs, r.stderr)
				}
				for _, q := range e.srv.Requests() {
					if strings.Contains(q.Path, "/download") {
						t.Errorf("-fail=%v: a download went out: %.100s", fail, q.Path)
					}
				}
				assertUntouched(t, dest, old, then)
			}
		})
	}
}
