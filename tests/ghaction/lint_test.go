package ghaction

// Static checks: actionlint on the example workflows (which use the action,
// so actionlint reads the action's metadata) and on a workflow made of the
// action's own steps (actionlint does not check the steps of an action.yml
// itself); no ${{ }} in any run:; no key among the inputs; the scripts
// parse.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pgofetch/tests/internal/testenv"
)

// actionlintVersion is pinned: a newer actionlint may add checks.
const actionlintVersion = "v1.7.12"

func actionlint(t *testing.T, dir string, files ...string) {
	t.Helper()
	args := append([]string{"run", "github.com/rhysd/actionlint/cmd/actionlint@" + actionlintVersion,
		"-shellcheck=", "-pyflakes=", "-no-color"}, files...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("actionlint %s: %v\n%s", strings.Join(files, " "), err, out)
	}
}

func TestActionlint(t *testing.T) {
	root := testenv.RepoRoot(t)
	for _, wf := range exampleWorkflows {
		actionlint(t, root, filepath.Join(".github", "workflows", wf))
	}
	actionlint(t, root, refreshWorkflow)

	// The action's steps as a reusable workflow's job: its inputs become
	// workflow_call inputs, so that inputs.*, steps.* and the uses: of
	// actions/cache are checked as actionlint checks a workflow.
	var doc yaml.Node
	data, err := os.ReadFile(filepath.Join(root, "github-action", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]actionInput `yaml:"inputs"`
		Runs   struct {
			Steps yaml.Node `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := doc.Decode(&meta); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]any{}
	for name, in := range meta.Inputs {
		inputs[name] = map[string]any{"type": "string", "required": in.Required, "default": in.Default}
		if in.Required {
			inputs[name] = map[string]any{"type": "string", "required": true}
		}
	}
	wf := map[string]any{
		"name": "action-steps",
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{
			"runs-on": "ubuntu-24.04",
			"steps":   &meta.Runs.Steps,
		}},
	}
	out, err := yaml.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wfDir := filepath.Join(dir, ".github", "workflows")
	os.MkdirAll(wfDir, 0o755)
	if err := os.WriteFile(filepath.Join(wfDir, "action-steps.yml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	actionlint(t, dir, filepath.Join(".github", "workflows", "action-steps.yml"))
}

// TestNoExpressionsInScripts: every ${{ }} value reaches a script through
// env:, and the Datadog keys are never inputs.
func TestNoExpressionsInScripts(t *testing.T) {
	root := testenv.RepoRoot(t)
	var a struct {
		Inputs map[string]actionInput `yaml:"inputs"`
		Runs   struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	data, err := os.ReadFile(filepath.Join(root, "github-action", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	runs := 0
	for _, st := range a.Runs.Steps {
		if st.Run == "" {
			continue
		}
		runs++
		if strings.Contains(st.Run, "${{") {
			t.Errorf("step %q inlines an expression into run: %q", st.Name, st.Run)
		}
		// Each run: only starts a script of the action, which must parse.
		m := regexp.MustCompile(`^bash "\$GITHUB_ACTION_PATH/([a-z-]+\.sh)"$`).FindStringSubmatch(st.Run)
		if m == nil {
			t.Errorf("step %q: run: %q is not bash \"$GITHUB_ACTION_PATH/<script>.sh\"", st.Name, st.Run)
			continue
		}
		if out, err := exec.Command("bash", "-n", filepath.Join(root, "github-action", m[1])).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", m[1], err, out)
		}
	}
	if runs < 3 {
		t.Errorf("only %d run: steps", runs)
	}
	for name := range a.Inputs {
		if regexp.MustCompile(`(?i)key|secret|token|password`).MatchString(name) {
			t.Errorf("input %q looks like a credential: keys come through env:", name)
		}
	}
	// The example workflows too.
	for _, name := range exampleWorkflows {
		checkExampleWorkflow(t, filepath.Join(root, ".github", "workflows", name))
	}
	checkExampleWorkflow(t, filepath.Join(root, refreshWorkflow))
}

func checkExampleWorkflow(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	usesAction := false
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			if run, ok := st["run"].(string); ok && strings.Contains(run, "${{") {
				t.Errorf("example workflow: run: inlines an expression: %q", run)
			}
			if uses, _ := st["uses"].(string); uses == "./github-action" {
				usesAction = true
				if with, ok := st["with"].(map[string]any); ok {
					for k := range with {
						if strings.Contains(strings.ToLower(k), "key") {
							t.Errorf("example workflow passes %s as an input", k)
						}
					}
				}
			} else if uses != "" && !regexp.MustCompile(`@[0-9a-f]{40}$`).MatchString(uses) {
				t.Errorf("example workflow: uses: %s is not pinned to a commit SHA", uses)
			}
		}
	}
	if !usesAction {
		t.Errorf("%s does not use ./github-action", file)
	}
}

type actionInput struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}
