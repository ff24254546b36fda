package tests

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// TestBenchHarness runs the benchmark harness (bench/, make bench) on tiny
// inputs, once each, so that it keeps working between benchmark runs. Its
// numbers mean nothing at this size; only that every peer ran, the outputs
// compared equal and the table came out. The harness's own tests check the
// floors table's arithmetic on numbers made up for them.
func TestBenchHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the benchmark harness")
	}
	bin := testenv.Pgofetch(t)
	cmd := exec.Command("go", "run", "./harness", "-tiny", "-runs", "1", "-q",
		"-pgofetch", bin, "-work", filepath.Join(t.TempDir(), "bench"))
	cmd.Dir = filepath.Join(testenv.RepoRoot(t), "bench")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench harness: %v\n%s", err, out)
	}
	unit := exec.Command("go", "test", "-count=1", "./harness")
	unit.Dir = cmd.Dir
	if out, err := unit.CombinedOutput(); err != nil {
		t.Fatalf("the harness's own tests: %v\n%s", err, out)
	}
	for _, want := range []string{
		"end to end, gzip profiles", "end to end, zstd profiles", "datadog-pgo equivalent",
		"go tool pprof -proto", "Go's own benchmark CPU profiles", "legacy path", "round trips", "**Floors**",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}
