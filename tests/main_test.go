// End-to-end tests of the pgofetch binary: the differential test against
// refmerge (the pprof reference merger), bad inputs, DEST behaviour, the
// command line and HTTP sources.
//
// The binary under test is $PGOFETCH, else ../build/core/pgofetch; a missing
// binary fails every test that needs it.
package tests

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgofetch/tests/internal/testenv"
)

// scratch is this run's cache directory: refmerge, the real profiles.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pgofetch-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of a program.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("pgofetch %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// lines returns stderr's lines.
func (r result) lines() []string {
	s := strings.TrimRight(r.stderr, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Marker keys set for every run: they must appear in no output and no file.
const (
	markerAPIKey = "marker0api0key0c0ffee0d15ea5e"
	markerAppKey = "marker0app0key0feedface0b0a710ad"
)

// env is the environment pgofetch runs in: marker keys, no other Datadog
// settings, no colour.
func env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DD_") || strings.HasPrefix(kv, "PGOFETCH") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "NO_COLOR=1", "DD_API_KEY="+markerAPIKey, "DD_APP_KEY="+markerAppKey)
}

// assertNoMarkers fails when a marker key is in the run's output or in the
// file its last argument names (DEST, the one file pgofetch writes).
func assertNoMarkers(t testing.TB, r result) {
	t.Helper()
	texts := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	if len(r.args) > 0 {
		if data, err := os.ReadFile(r.args[len(r.args)-1]); err == nil {
			if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
				if raw, err := io.ReadAll(zr); err == nil {
					data = raw // the profile's strings, not their compressed form
				}
			}
			texts["DEST"] = string(data)
		}
	}
	for what, text := range texts {
		if strings.Contains(text, markerAPIKey) || strings.Contains(text, markerAppKey) {
			t.Errorf("a Datadog key appears in pgofetch's %s", what)
		}
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary is a copy of the binary under test taken once per run, so that
// every test of a run sees the same binary even if it is rebuilt meanwhile.
func binary(t testing.TB) string {
	t.Helper()
	src := testenv.Pgofetch(t) // fails the test when it is missing
	binOnce.Do(func() {
		data, err := os.ReadFile(src)
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(scratch, "pgofetch")
		binErr = os.WriteFile(binPath, data, 0o755)
	})
	if binErr != nil {
		t.Fatalf("copying the binary under test: %v", binErr)
	}
	return binPath
}

// pgofetch runs the binary under test with args (60 s at most).
func pgofetch(t testing.TB, args ...string) result {
	t.Helper()
	return runBin(t, binary(t), args...)
}

func runBin(t testing.TB, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	case ctx.Err() != nil:
		t.Fatalf("%s: still running after 60 s\n%s", filepath.Base(bin), r)
	default:
		t.Fatalf("%s: %v\n%s", filepath.Base(bin), err, r)
	}
	assertNoMarkers(t, r)
	return r
}

var (
	refmergeOnce sync.Once
	refmergeBin  string
	refmergeErr  error
)

// refmerge builds the oracle once per run and returns its path.
func refmerge(t testing.TB) string {
	t.Helper()
	refmergeOnce.Do(func() {
		bin := filepath.Join(scratch, "refmerge")
		cmd := exec.Command("go", "build", "-o", bin, "./refmerge")
		if out, err := cmd.CombinedOutput(); err != nil {
			refmergeErr = fmt.Errorf("building refmerge: %v\n%s", err, out)
			return
		}
		refmergeBin = bin
	})
	if refmergeErr != nil {
		t.Fatal(refmergeErr)
	}
	return refmergeBin
}

// oracle runs refmerge over files and returns the merged, uncompressed
// profile.
func oracle(t testing.TB, noinline bool, files ...string) []byte {
	t.Helper()
	args := []string{}
	if !noinline {
		args = append(args, "-noinline=false")
	}
	args = append(args, files...)
	cmd := exec.Command(refmerge(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("refmerge %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// gunzip decompresses a DEST file, which pgofetch writes gzip-compressed.
func gunzip(t testing.TB, data []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		t.Fatalf("DEST is not gzip-compressed: starts with % x", data[:min(8, len(data))])
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("DEST: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("DEST: %v", err)
	}
	return raw
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// listDir names the entries of dir, sorted.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// old is a point in the past that DEST's mtime is set to, so that any
// rewrite shows.
var old = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

func setOld(t testing.TB, path string) {
	t.Helper()
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

func mtime(t testing.TB, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// requireBinary fails the test at once when the binary is missing.
func requireBinary(t testing.TB) { t.Helper(); binary(t) }

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }
