package ghaction

// The fetch's own inputs that shape the profile, under act: per-source
// weights (in's "-weight W" lines, query-weight, normalize) and the go
// that builds (go). The oracle is pgofetch itself, run by hand on the same
// sources with the flags the inputs stand for: the job's profile must be
// that file byte for byte.

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

const trimmedComment = "pgofetch: trimmed to what Go's compiler reads"

// byHand runs pgofetch in dir with args and returns the profile it wrote
// to a DEST of its own.
func (w *world) byHand(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "default.pgo")
	cmd := exec.Command(testenv.Pgofetch(t), append(args, dest)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DD_API_KEY="+w.srv.APIKey(), "DD_APP_KEY="+w.srv.AppKey(),
		"PGOFETCH_API_URL="+w.srv.URL(), "SSL_CERT_FILE="+w.ca)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgofetch %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	data, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func comments(t *testing.T, data []byte) string {
	t.Helper()
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("not a profile: %v", err)
	}
	return strings.Join(p.Comments, "\n")
}

func TestWeightsAndGoUnderAct(t *testing.T) {
	w := newWorld(t)
	// Three sources of different lengths and shapes, so that each weight
	// and normalize change the merge.
	inputs := map[string][]byte{
		"pgo-inputs/a.pprof": fakedd.SyntheticCPUProfile(11, 2, time.Minute),
		"pgo-inputs/b.pprof": fakedd.SyntheticCPUProfile(12, 6, 3*time.Minute),
		"pgo-inputs/c.pprof": fakedd.SyntheticCPUProfile(13, 1, 30*time.Second),
		"pgo-inputs/go":      []byte(testenv.FakeGoScript("go1.99.0")), // newer than any -trim is proven for
	}
	w.repo = snapshotRepo(t, inputs)
	if err := os.Chmod(filepath.Join(w.repo, "pgo-inputs", "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	query := "service:" + service + " env:prod"

	t.Run("weights: the profile pgofetch writes by hand", func(t *testing.T) {
		w.t = t
		j := w.run(jobOpts{workflow: "testdata/weights.yml"})
		j.requireGreen(t)
		want(t, j.outputs(t, "pgo"), map[string]string{"outcome": "written", "path": destPath})
		got, err := os.ReadFile(filepath.Join(j.record, "default.pgo"))
		if err != nil {
			t.Fatal(err)
		}
		goCmd, err := exec.LookPath("go")
		if err != nil {
			t.Fatal(err)
		}
		// The go on PATH is passed as -go (a proven one: trimmed).
		if !strings.Contains(j.text, " -go="+goCmd+" ") {
			t.Errorf("the go on PATH (%s) is not passed as -go:\n%s", goCmd, grepLines(j.text, "pgofetch -json"))
		}
		weighted := w.byHand(t, w.repo, "-in", "pgo-inputs/a.pprof", "-weight", "0.25", "-in", "pgo-inputs/b.pprof",
			"-weight", "2", "-in", "pgo-inputs/c.pprof", "-normalize", "-weight", "3", "-go", goCmd, query)
		if !bytes.Equal(got, weighted) {
			t.Errorf("the job's profile (%d bytes) is not pgofetch's by hand with the same weights (%d bytes)\njob:\n%s\nby hand:\n%s",
				len(got), len(weighted), comments(t, got), comments(t, weighted))
		}
		// The weights matter: without them the profile differs.
		plain := w.byHand(t, w.repo, "-in", "pgo-inputs/a.pprof", "-in", "pgo-inputs/b.pprof",
			"-in", "pgo-inputs/c.pprof", "-go", goCmd, query)
		if bytes.Equal(got, plain) {
			t.Errorf("the weights changed nothing")
		}
		c := comments(t, got)
		for _, s := range []string{"pgofetch: source pgo-inputs/b.pprof, weight 0.25", "pgofetch: source pgo-inputs/c.pprof, weight 2",
			", weight 3", "pgofetch: -normalize", trimmedComment} {
			if !strings.Contains(c, s) {
				t.Errorf("the profile's comments lack %q:\n%s", s, c)
			}
		}
	})

	t.Run("go: a newer go gets the full profile", func(t *testing.T) {
		w.t = t
		j := w.run(jobOpts{workflow: "testdata/newer-go.yml", noKeys: true})
		j.requireGreen(t)
		want(t, j.outputs(t, "pgo"), map[string]string{"outcome": "written", "path": destPath})
		got, err := os.ReadFile(filepath.Join(j.record, "default.pgo"))
		if err != nil {
			t.Fatal(err)
		}
		full := w.byHand(t, w.repo, "-trim=false", "-in", "pgo-inputs/a.pprof")
		if !bytes.Equal(got, full) {
			t.Errorf("the job's profile is not the full one (%d bytes; -trim=false by hand: %d)\n%s",
				len(got), len(full), comments(t, got))
		}
		if strings.Contains(comments(t, got), trimmedComment) {
			t.Errorf("the profile is trimmed")
		}
		if s := "writing the full profile: the go that builds is newer than the Go versions -trim is proven for"; !strings.Contains(j.text, s) {
			t.Errorf("the log does not say %q:\n%s", s, tail(j.text, 40))
		}
	})
}

// TestWeightInputErrors: weights that weigh nothing are usage errors (exit
// 2) with one annotation that says what is wrong, before pgofetch runs.
func TestWeightInputErrors(t *testing.T) {
	env := []string{"PGOFETCH_SUPPORTED=true", "PGOFETCH_PGO_DIR=" + t.TempDir(), "INPUT_DEST=x/default.pgo"}
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"a last -weight line", []string{"INPUT_IN=a.pprof\n-weight 0.5\n", "INPUT_QUERY=service:x"},
			`::error title=pgofetch::the in input ends with "-weight 0.5": a -weight line weighs the sources on the lines after it`},
		{"query-weight without a query", []string{"INPUT_IN=a.pprof", "INPUT_QUERY_WEIGHT=2"},
			"::error title=pgofetch::query-weight is set but the query input is empty"},
		{"normalize neither true nor false", []string{"INPUT_IN=a.pprof", "INPUT_NORMALIZE=yes"},
			"::error title=pgofetch::input normalize must be true or false, got: yes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, log, code := step(t, "fetch.sh", append(env, tc.env...)...)
			if code != 2 || !strings.Contains(log, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, log)
			}
			if strings.Contains(log, "pgofetch -json") {
				t.Errorf("pgofetch ran:\n%s", log)
			}
		})
	}
}
