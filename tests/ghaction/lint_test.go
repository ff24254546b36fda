package ghaction

// Static checks: actionlint on the example workflow (which uses the action,
// so actionlint reads the action's metadata) and on a workflow made of the
// action's own steps (actionlint does not check the steps of an action.yml
// itself); no ${{ }} in any run:; no key among the inputs; the scripts
// parse; the JSON readers (jq and awk) agree.

import (
	"bytes"
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
	actionlint(t, root, filepath.Join(".github", "workflows", "example-pgo.yml"))

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
	a := loadAction(t, filepath.Join(root, "github-action"))
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
	// The example workflow too.
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "example-pgo.yml"))
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
		t.Error("the example workflow does not use ./github-action")
	}
}

// TestJSONReaders: the awk reader prints what the jq reader prints.
func TestJSONReaders(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatalf("jq is needed to compare the readers (core/install-deps.sh installs it): %v", err)
	}
	lib := filepath.Join(testenv.RepoRoot(t), "github-action", "lib.sh")
	lines := strings.Join([]string{
		`{"time":"2026-11-21T10:00:00Z","level":"INFO","msg":"wrote PGO file","path":"cmd/x/default.pgo","samples":1234,"bytes":56789,"changed":true,"debug-query":"profile-id:(a OR b)"}`,
		`pgofetch: flag provided but not defined: -x`,
		`{"level":"ERROR","msg":"a \"quoted\" \\ back\tslash\nnewline \u00e9 \u2603 \ud83d\ude00 x\u001fy / \/"}`,
		`{"msg":"extracted profile","profile-id":"abc-1","cpu-cores":3.2,"age":259200000000000,"n":null,"f":false}`,
		`  {"msg":"first","msg":"second (the last wins)","nested":{"a":[1,2,{"b":"}"}]}}`,
		`{"msg":"PGO file unchanged, left as it was","path":"a b/default.pgo","changed":false}`,
		`{"broken":`,
		`[1,2,3]`,
		`{}`,
	}, "\n") + "\n"
	keys := "msg level path samples bytes changed debug-query profile-id cpu-cores age n f nested missing"
	read := func(reader string) string {
		cmd := exec.Command("bash", "-c", `. "$1"; shift; jsonl_fields "$@"`, "bash", lib)
		cmd.Args = append(cmd.Args, strings.Fields(keys)...)
		cmd.Env = append(os.Environ(), "PGOFETCH_JSON_READER="+reader)
		cmd.Stdin = strings.NewReader(lines)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s reader: %v\n%s", reader, err, out)
		}
		return string(out)
	}
	jq, awk := read("jq"), read("awk")
	if jq != awk {
		t.Errorf("the readers differ:\njq:\n%q\nawk:\n%q", jq, awk)
	}
	got := strings.Split(strings.TrimSuffix(awk, "\n"), "\n")
	if len(got) != 6 {
		t.Fatalf("%d objects read, want 6:\n%q", len(got), awk)
	}
	want := [][]string{
		{"wrote PGO file", "INFO", "cmd/x/default.pgo", "1234", "56789", "true", "profile-id:(a OR b)", "", "", "", "", "", "", ""},
		{"a \"quoted\" \\ back slash newline é ☃ 😀 x y / /", "ERROR", "", "", "", "", "", "", "", "", "", "", "", ""},
		{"extracted profile", "", "", "", "", "", "", "abc-1", "3.2", "259200000000000", "", "false", "", ""},
		{"second (the last wins)", "", "", "", "", "", "", "", "", "", "", "", `{"a":[1,2,{"b":"}"}]}`, ""},
		{"PGO file unchanged, left as it was", "", "a b/default.pgo", "", "", "false", "", "", "", "", "", "", "", ""},
		{"", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	}
	for i, w := range want {
		if g := strings.Split(got[i], "\x1f"); !equal(g, w) {
			t.Errorf("object %d:\n got %q\nwant %q", i, g, w)
		}
	}
}

func equal(a, b []string) bool {
	return bytes.Equal([]byte(strings.Join(a, "\x00")), []byte(strings.Join(b, "\x00")))
}
