package bazelrule

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// readmeSnippet is the code block of bazel/README.md marked
// "<!-- snippet: NAME -->": the tests run what users paste.
func readmeSnippet(t *testing.T, name string) string {
	t.Helper()
	readme := filepath.Join(testenv.RepoRoot(t), "bazel", "README.md")
	text := string(readFile(t, readme))
	marker := "<!-- snippet: " + name + " -->\n"
	_, rest, ok := strings.Cut(text, marker)
	if !ok {
		t.Fatalf("%s has no %q", readme, strings.TrimSpace(marker))
	}
	fence, rest, ok := strings.Cut(rest, "\n")
	if !ok || !strings.HasPrefix(fence, "```") {
		t.Fatalf("%s: %q is not followed by a code block", readme, strings.TrimSpace(marker))
	}
	code, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatalf("%s: the code block after %q does not end", readme, strings.TrimSpace(marker))
	}
	return code
}

// starlarkCall is the argument text of the first call NAME(...) in code,
// its lines trimmed: calls that must declare the same thing are compared
// by it.
func starlarkCall(t *testing.T, code, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?ms)^` + regexp.QuoteMeta(name) + `\((.*?)^\)`).FindStringSubmatch(code)
	if m == nil {
		t.Fatalf("no %s(...) call in:\n%s", name, code)
	}
	var lines []string
	for _, l := range strings.Split(m[1], "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// The Bzlmod snippet cannot run here (Bazel 4 has no Bzlmod): it must at
// least declare the profile the WORKSPACE snippet does, through the
// extension and tag class that exist.
func TestReadmeModuleSnippet(t *testing.T) {
	module := readmeSnippet(t, "MODULE.bazel")
	workspace := readmeSnippet(t, "WORKSPACE")
	if got, want := starlarkCall(t, module, "pgo.profile"), starlarkCall(t, workspace, "pgofetch_profile"); got != want {
		t.Errorf("MODULE.bazel's pgo.profile(...) declares\n%s\nbut WORKSPACE's pgofetch_profile(...) declares\n%s", got, want)
	}
	use := regexp.MustCompile(`use_extension\("@pgofetch//bazel:(\w+\.bzl)", "(\w+)"\)`).FindStringSubmatch(module)
	if use == nil {
		t.Fatalf("no use_extension(\"@pgofetch//bazel:...\") in:\n%s", module)
	}
	ext := string(readFile(t, filepath.Join(testenv.RepoRoot(t), "bazel", use[1])))
	if !strings.Contains(ext, "\n"+use[2]+" = module_extension(") || !strings.Contains(ext, `tag_classes = {"profile": `) {
		t.Errorf("bazel/%s defines no module extension %s with a profile tag class", use[1], use[2])
	}
	for _, want := range []string{`use_repo(pgo, "server_pgo")`, `bazel_dep(name = "pgofetch", version = "0.1.0")`} {
		if !strings.Contains(module, want) {
			t.Errorf("the MODULE.bazel snippet lacks %s", want)
		}
	}
	top := string(readFile(t, filepath.Join(testenv.RepoRoot(t), "MODULE.bazel")))
	if !strings.Contains(top, `name = "pgofetch",`) || !strings.Contains(top, `version = "0.1.0",`) {
		t.Errorf("MODULE.bazel does not declare the module pgofetch 0.1.0 that the snippet depends on:\n%s", top)
	}
}

// Switching to committed mode adds mode and profile to the declaration
// and changes nothing else: README's committed snippet is its WORKSPACE
// one with those two lines.
func TestReadmeCommittedSnippet(t *testing.T) {
	fetch := starlarkCall(t, readmeSnippet(t, "WORKSPACE"), "pgofetch_profile")
	committed := starlarkCall(t, readmeSnippet(t, "committed"), "pgofetch_profile")
	var rest []string
	added := 0
	for _, l := range strings.Split(committed, "\n") {
		if l == `mode = "committed",` || strings.HasPrefix(l, "profile = ") {
			added++
			continue
		}
		rest = append(rest, l)
	}
	if added != 2 || strings.Join(rest, "\n") != fetch {
		t.Errorf("the committed snippet declares\n%s\nwhich is not the WORKSPACE snippet's\n%s\nwith mode and profile added", committed, fetch)
	}
}
