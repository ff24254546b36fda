package bazelrule

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

const gazelleTool = "github.com/bazelbuild/bazel-gazelle/cmd/gazelle@v0.48.0"

// README's go_binary, run through the real Gazelle again and again: the
// pgoprofile label must survive. The same file without its "# keep" must
// lose it, or the test could not see Gazelle remove it.
func TestGazelleKeepsProfileLabel(t *testing.T) {
	build := readmeSnippet(t, "BUILD.bazel")
	label := `pgoprofile = "@server_pgo//:default.pgo"`
	if !strings.Contains(build, label+",  # keep\n") {
		t.Fatalf("README's BUILD snippet lacks %s,  # keep:\n%s", label, build)
	}
	gazelle := testenv.GoTool(t, gazelleTool)

	for _, c := range []struct {
		name  string
		build string
		kept  bool
	}{
		{"README's go_binary", build, true},
		{"without # keep", strings.Replace(build, ",  # keep\n", ",\n", 1), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := t.TempDir()
			pkg := filepath.Join(ws, "cmd", "server")
			os.MkdirAll(pkg, 0o755)
			writeFile(t, filepath.Join(ws, "WORKSPACE"), "")
			// More than README's BUILD file says, so that Gazelle rewrites
			// the rules around the label: another source and a dependency.
			writeFile(t, filepath.Join(pkg, "main.go"), "package main\n\nimport \"example.com/server/work\"\n\nfunc main() { work.Do() }\n")
			writeFile(t, filepath.Join(pkg, "flags.go"), "package main\n\nvar verbose bool\n")
			os.MkdirAll(filepath.Join(ws, "work"), 0o755)
			writeFile(t, filepath.Join(ws, "work", "work.go"), "package work\n\nfunc Do() {}\n")
			buildFile := filepath.Join(pkg, "BUILD.bazel")
			writeFile(t, buildFile, c.build)
			for i := 0; i < 3; i++ {
				for _, cmd := range []string{"update", "fix"} {
					runGazelle(t, gazelle, ws, cmd)
				}
			}
			got := string(readFile(t, buildFile))
			if strings.Contains(got, label) != c.kept {
				t.Errorf("after gazelle update and fix, three times each, the label is kept=%v, want %v:\n%s",
					!c.kept, c.kept, got)
			}
			if !strings.Contains(got, `"flags.go"`) || !strings.Contains(got, `"//work"`) {
				t.Errorf("Gazelle did not update the package's rules (srcs, deps), so the test saw no rewrite:\n%s", got)
			}
			// Gazelle must still see README's go_binary as the package's
			// binary: one go_binary, with its library embedded.
			if n := len(regexp.MustCompile(`(?m)^go_binary\(`).FindAllString(got, -1)); n != 1 || !strings.Contains(got, `embed = [":server_lib"]`) {
				t.Errorf("Gazelle rewrote the binary (%d go_binary rules):\n%s", n, got)
			}
		})
	}
}

func runGazelle(t *testing.T, gazelle, ws, cmd string) {
	t.Helper()
	c := exec.Command(gazelle, cmd, "-repo_root", ".", "-go_prefix", "example.com/server")
	c.Dir = ws
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("gazelle %s: %v\n%s", cmd, err, out)
	}
}
