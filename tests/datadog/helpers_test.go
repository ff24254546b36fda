package datadog

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// env is one fake Datadog API with a set of served profiles, and what a
// pgofetch run against it needs.
type env struct {
	t       *testing.T
	srv     *fakedd.Server
	caFile  string
	profDir string // the served profile files, named <id>.pprof
	ids     []string
}

// served profiles: the real production profile (gzip) and synthetic ones
// in zstd and raw protobuf, as Datadog may store them.
func newEnv(t *testing.T, opts fakedd.Options) *env {
	t.Helper()
	e := &env{t: t, profDir: t.TempDir()}
	real, err := os.ReadFile(testenv.RealProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"a1b2c3-real-gzip":  real,
		"d4e5f6-synth-zstd": zstdOf(t, testenv.Decompressed(t, fakedd.SyntheticCPUProfile(1, 3.5, time.Minute))),
		"0789ab-synth-raw":  testenv.Decompressed(t, fakedd.SyntheticCPUProfile(2, 1.25, time.Minute)),
	}
	for id, data := range files {
		if err := os.WriteFile(filepath.Join(e.profDir, id+".pprof"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts.StateDir = t.TempDir()
	opts.ProfilesDir = e.profDir
	srv, err := fakedd.Start(opts)
	if err != nil {
		t.Fatalf("starting the fake Datadog API: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	e.srv = srv
	e.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(e.caFile, srv.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// result is one pgofetch run.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// run runs pgofetch against the fake API with the right keys, its CA and
// its URL (as -api-url), plus args.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runEnv(map[string]string{
		"DD_API_KEY": e.srv.APIKey(),
		"DD_APP_KEY": e.srv.AppKey(),
	}, append([]string{"-api-url", e.srv.URL()}, args...)...)
}

// runEnv runs pgofetch with SSL_CERT_FILE set to the fake's CA, the given
// variables, and no other Datadog or proxy variable from the caller.
func (e *env) runEnv(vars map[string]string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(testenv.Pgofetch(e.t), args...)
	for _, kv := range os.Environ() {
		k := kv[:strings.IndexByte(kv, '=')]
		if strings.HasPrefix(k, "DD_") || strings.HasPrefix(k, "PGOFETCH") ||
			strings.Contains(strings.ToLower(k), "proxy") || k == "SSL_CERT_FILE" || k == "CURL_CA_BUNDLE" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+e.caFile)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		e.t.Fatalf("running pgofetch: %v", err)
	}
	e.assertNoKeys("pgofetch's output", r.stdout+r.stderr)
	return r
}

// assertNoKeys fails when either key's value appears in s.
func (e *env) assertNoKeys(what, s string) {
	e.t.Helper()
	for _, k := range []string{e.srv.APIKey(), e.srv.AppKey()} {
		if strings.Contains(s, k) {
			e.t.Errorf("%s holds a Datadog key", what)
		}
	}
}

// assertNoKeysInDir fails when a key's value is in any file under dir.
func (e *env) assertNoKeysInDir(dir string) {
	e.t.Helper()
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			data, _ := os.ReadFile(path)
			e.assertNoKeys(path, string(data))
		}
		return nil
	})
}

var refmergeOnce struct {
	sync.Once
	path string
	err  error
}

// refmerge builds the google/pprof oracle once per test binary.
func refmerge(t *testing.T) string {
	t.Helper()
	refmergeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "refmerge")
		if err != nil {
			refmergeOnce.err = err
			return
		}
		refmergeOnce.path = filepath.Join(dir, "refmerge")
		cmd := exec.Command("go", "build", "-o", refmergeOnce.path, "./refmerge")
		cmd.Dir = filepath.Join(testenv.RepoRoot(t), "tests")
		if out, err := cmd.CombinedOutput(); err != nil {
			refmergeOnce.err = errors.New(string(out))
		}
	})
	if refmergeOnce.err != nil {
		t.Fatalf("building refmerge: %v", refmergeOnce.err)
	}
	return refmergeOnce.path
}

// oracle is what google/pprof makes of the given served profiles, in order.
func (e *env) oracle(ids ...string) []byte {
	e.t.Helper()
	var files []string
	for _, id := range ids {
		files = append(files, filepath.Join(e.profDir, id+".pprof"))
	}
	out, err := exec.Command(refmerge(e.t), files...).Output()
	if err != nil {
		e.t.Fatalf("refmerge: %v", err)
	}
	return out
}

// existingDest writes an older profile to a fresh DEST and returns its
// path, content and mtime, for checking that a failure leaves it as it was.
func existingDest(t *testing.T) (string, []byte, time.Time) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "default.pgo")
	old := []byte("an older default.pgo, whatever its content")
	if err := os.WriteFile(dest, old, 0o644); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(dest, then, then); err != nil {
		t.Fatal(err)
	}
	return dest, old, then
}

func assertUntouched(t *testing.T, dest string, old []byte, then time.Time) {
	t.Helper()
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, old) {
		t.Errorf("DEST changed: %v", err)
	}
	if st, err := os.Stat(dest); err != nil || !st.ModTime().Equal(then) {
		t.Errorf("DEST's mtime changed")
	}
	entries, _ := os.ReadDir(filepath.Dir(dest))
	if len(entries) != 1 {
		t.Errorf("DEST's directory holds %d entries, want only DEST (a temporary file left?)", len(entries))
	}
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.Decompressed(t, data)
}

func zstdOf(t *testing.T, raw []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(raw, nil)
}
