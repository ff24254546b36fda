package reliability

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgofetch/tests/internal/testenv"
)

// SIGKILL while the temporary file is written leaves it behind (no
// handler can run); the next run for the same DEST removes it once it is
// an hour old, and nothing else: not a younger one (a run may still be
// writing it), not another DEST's, not a name pgofetch does not make.
func TestLeftoverTemporaryFiles(t *testing.T) {
	lib := shim(t)
	dir := t.TempDir()
	d := newOldDest(t, dir)
	cmd := startStalled(t, lib, d.path)
	cmd.Process.Signal(syscall.SIGKILL)
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("pgofetch did not die of SIGKILL: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".default.pgo.pgofetch.tmp-*"))
	if len(left) != 1 {
		t.Fatalf("SIGKILL left %q, want one temporary file", left)
	}
	hourAgo := time.Now().Add(-61 * time.Minute)
	os.Chtimes(left[0], hourAgo, hourAgo)

	// Beside it: what must stay.
	keep := map[string]time.Duration{
		".default.pgo.pgofetch.tmp-Young1":  10 * time.Minute, // a run may still be writing it
		".other.pgo.pgofetch.tmp-AbC123":    2 * time.Hour,    // another DEST's
		".default.pgo.tmp-AbC123":           2 * time.Hour,    // not a name pgofetch makes
		".default.pgo.pgofetch.tmp-AbC1234": 2 * time.Hour,
		".default.pgo.pgofetch.tmp-AbC12":   2 * time.Hour,
		"default.pgo.pgofetch.tmp-AbC123":   2 * time.Hour,
		".default.pgo.pgofetch.tmp-AbC12.x": 2 * time.Hour,
	}
	for name, age := range keep {
		p := writeFile(t, dir, name, []byte("not ours to remove"))
		then := time.Now().Add(-age)
		os.Chtimes(p, then, then)
	}
	sub := filepath.Join(dir, ".default.pgo.pgofetch.tmp-Dir123") // a directory, not a file
	os.Mkdir(sub, 0o755)
	os.Chtimes(sub, hourAgo, hourAgo)

	// A failing run for the same DEST cleans up too.
	r := run(t, nil, testenv.Pgofetch(t), "-in", filepath.Join(dir, "missing.pprof"), d.path)
	if r.code != 0 || !containsLine(r.stderr, "INF removed temporary files an interrupted run left beside DEST path="+d.path+" files=1") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(left[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover temporary file is still there: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{".default.pgo.pgofetch.tmp-Dir123", "default.pgo"}
	for name := range keep {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("the directory holds %q, want %q", names, want)
	}
}

func containsLine(s, line string) bool {
	return slices.Contains(strings.Split(s, "\n"), line)
}
