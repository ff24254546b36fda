package ghaction

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pgofetch/tests/internal/testenv"
)

// TestReadmeShowsTheWorkflows: github-action/README.md shows the example
// workflows as they are, the ones the act tests run.
func TestReadmeShowsTheWorkflows(t *testing.T) {
	root := testenv.RepoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "github-action", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range append(exampleWorkflows, "../../"+refreshWorkflow) {
		data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", wf))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```yaml\n"+string(data)+"```\n") {
			t.Errorf("github-action/README.md does not show %s as it is", wf)
		}
	}
	var action struct {
		Outputs map[string]any `yaml:"outputs"`
	}
	data, err := os.ReadFile(filepath.Join(root, "github-action", "action.yml"))
	if err == nil {
		err = yaml.Unmarshal(data, &action)
	}
	if err != nil {
		t.Fatal(err)
	}
	known := append(append(append([]string{}, allOutputs...), insightOutputs...), refreshOutputs...)
	if len(action.Outputs) != len(known) {
		t.Errorf("action.yml has %d outputs, the tests know %d: %v", len(action.Outputs), len(known), known)
	}
	for _, out := range known {
		if action.Outputs[out] == nil {
			t.Errorf("action.yml has no output %s", out)
		}
		if !strings.Contains(string(readme), "| `"+out+"` |") {
			t.Errorf("github-action/README.md's outputs table lacks %s", out)
		}
	}
}
