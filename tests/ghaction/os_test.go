package ghaction

// The Linux check (runner.os), which act cannot show: in host mode it
// reports the host's OS. The action's first and fetch steps are run as the
// runner would on macOS, each with its GITHUB_OUTPUT file.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// step runs one of the action's scripts with env and returns its outputs
// (the NAME<<DELIMITER form set_output writes) and its exit code.
func step(t *testing.T, script string, env ...string) (map[string]string, string, int) {
	t.Helper()
	dir := t.TempDir()
	outFile := filepath.Join(dir, "output")
	summary := filepath.Join(dir, "summary")
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "github-action", script))
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "GITHUB_OUTPUT=" + outFile,
		"GITHUB_STEP_SUMMARY=" + summary, "RUNNER_TEMP=" + dir}, env...)
	log, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(outFile)
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	sum, _ := os.ReadFile(summary)
	return out, string(log) + string(sum), code
}

func TestNotLinux(t *testing.T) {
	out, _, code := step(t, "prepare.sh", "PGOFETCH_RUNNER_OS=macOS", "INPUT_DEST=cmd/x/default.pgo")
	if code != 0 || out["supported"] != "false" || len(out) != 1 {
		t.Fatalf("prepare.sh on macOS: exit %d, outputs %v; want supported=false alone", code, out)
	}
	out, log, code := step(t, "prepare.sh", "PGOFETCH_RUNNER_OS=Linux", "INPUT_DEST=cmd/x/default.pgo")
	if code != 0 || out["supported"] != "true" || out["bin-dir"] != ".pgofetch/bin" ||
		!strings.HasPrefix(out["pgo-dir"], ".pgofetch/last-good/") {
		t.Fatalf("prepare.sh on Linux: exit %d, outputs %v; want relative cache paths\n%s", code, out, log)
	}

	for _, fail := range []string{"false", "true"} {
		out, log, code := step(t, "fetch.sh", "PGOFETCH_RUNNER_OS=macOS", "PGOFETCH_SUPPORTED=false",
			"INPUT_DEST=cmd/x/default.pgo", "INPUT_QUERY=service:x", "INPUT_FAIL="+fail)
		wantCode := map[string]int{"false": 0, "true": 1}[fail]
		if code != wantCode {
			t.Errorf("fail: %s on macOS: exit %d, want %d\n%s", fail, code, wantCode, log)
		}
		want(t, out, map[string]string{"outcome": "failed", "path": "", "changed": "false", "fallback": "false",
			"error": "the pgofetch action runs on Linux runners only, not macOS"})
		for _, k := range allOutputs {
			if _, ok := out[k]; !ok {
				t.Errorf("fail: %s on macOS: output %s not set", fail, k)
			}
		}
		level := map[string]string{"false": "::warning ", "true": "::error "}[fail]
		if !strings.Contains(log, level+"title=pgofetch::no profile: the pgofetch action runs on Linux runners only") ||
			!strings.Contains(log, "### pgofetch: `cmd/x/default.pgo`") {
			t.Errorf("fail: %s on macOS: no %s annotation or no summary:\n%s", fail, level, log)
		}
	}
}

// A bad boolean input: a usage error (exit 2) whose annotation reaches the
// log, not a variable.
func TestBadBoolInput(t *testing.T) {
	for _, in := range []string{"INPUT_FAIL=maybe", "INPUT_TRIM=yes"} {
		name := strings.ToLower(strings.TrimPrefix(strings.Split(in, "=")[0], "INPUT_"))
		_, log, code := step(t, "fetch.sh", "PGOFETCH_RUNNER_OS=Linux", "PGOFETCH_SUPPORTED=true",
			"PGOFETCH_PGO_DIR=.pgofetch/last-good/x", "INPUT_DEST=default.pgo", "INPUT_QUERY=service:x", in)
		if code != 2 || !strings.Contains(log, "::error title=pgofetch::input "+name+" must be true or false, got: ") {
			t.Errorf("%s: exit %d, want 2 and an error annotation:\n%s", in, code, log)
		}
	}
}
