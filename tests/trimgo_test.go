package tests

// -trim is written only for the Go versions it is proven for. The proof:
// for the installed Go and for Go 1.27.3 (fetched by the go command through
// the module proxy), `go tool preprofile` of that very toolchain gives
// identical output for the trimmed and the full profile, pgofetch trims
// when that go builds, and the Go lines the trimmed profile's comment
// claims are exactly the ones checked here. A go newer than those gets
// the full profile, byte for byte what -trim=false writes.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/gen"
	"pgofetch/tests/internal/testenv"
)

// The released Go the project fetches besides the installed one.
const otherGo = "go1.27.3"

// goCmd runs a go binary without toolchain switching.
func goCmd(t *testing.T, gobin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gobin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", gobin, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// goLine is a GOVERSION's release line: go1.27.3 -> go1.27.
func goLine(version string) string {
	m := regexp.MustCompile(`^go(\d+)\.(\d+)`).FindStringSubmatch(version)
	if m == nil {
		return version
	}
	return "go" + m[1] + "." + m[2]
}

// provenLines are the Go lines a trimmed profile's comment claims.
func provenLines(t *testing.T, file string) []string {
	t.Helper()
	p, err := profile.Parse(bytes.NewReader(readFile(t, file)))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, c := range p.Comments {
		if _, list, ok := strings.Cut(c, "proven to give it the full profile's input for "); ok {
			return strings.Split(list, ", ")
		}
	}
	t.Fatalf("%s: no comment says which Go versions the trim is proven for; comments %q", file, p.Comments)
	return nil
}

// trimSets are the profile sets each toolchain checks: real profiles and
// a few generated ones.
func trimSets(t *testing.T) map[string][]string {
	ps := realProfiles(t)
	sets := map[string][]string{"real1": {ps[0]}, "real1+real2+real3": ps[:3], "grpc": {ps[3]}, "all": ps}
	for i, c := range gen.Cases() {
		if i%8 != 0 {
			continue
		}
		ins, _ := writeSet(t, t.TempDir(), gen.NewSet(c.Seed, c.Options))
		sets["gen/"+c.Name] = ins
	}
	return sets
}

func inArgs(ins []string) []string {
	var args []string
	for _, in := range ins {
		args = append(args, "-in", in)
	}
	return args
}

func TestTrimProvenForEachGo(t *testing.T) {
	requireBinary(t)
	installed := filepath.Join(goCmd(t, "go", "env", "GOROOT"), "bin", "go")
	gobins := []string{installed, testenv.GoToolchain(t, otherGo)}
	sets := trimSets(t)
	tested := map[string]bool{}
	var claimed []string
	for _, gobin := range gobins {
		version := goCmd(t, gobin, "env", "GOVERSION")
		tested[goLine(version)] = true
		pre := goCmd(t, gobin, "tool", "-n", "preprofile")
		compared := 0
		for name, ins := range sets {
			dir := t.TempDir()
			full, trimmed := filepath.Join(dir, "full.pgo"), filepath.Join(dir, "default.pgo")
			if r := pgofetch(t, append(append([]string{"-fail", "-trim=false"}, inArgs(ins)...), full)...); r.code != 0 {
				t.Fatalf("%s: %s", name, r)
			}
			r := pgofetch(t, append(append([]string{"-fail", "-v", "-go", gobin}, inArgs(ins)...), trimmed)...)
			want, refusal := preprocessWith(t, pre, full)
			if refusal != "" {
				continue // Go refuses it; trim_test checks pgofetch refuses too
			}
			if r.code != 0 {
				t.Fatalf("%s with %s: %s", name, version, r)
			}
			if !strings.Contains(r.stderr, "trimmed the profile") {
				t.Fatalf("%s: pgofetch did not trim for %s, a proven Go\n%s", name, version, r)
			}
			claimed = provenLines(t, trimmed)
			got, refusal := preprocessWith(t, pre, trimmed)
			if refusal != "" {
				t.Fatalf("%s: %s's go tool preprofile refuses the trimmed profile: %s", name, version, refusal)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: %s's go tool preprofile differs for the trimmed and the full profile\n%s",
					name, version, firstLineDiff(string(got), string(want)))
			}
			compared++
		}
		if compared < len(sets)/2 {
			t.Errorf("%s: only %d of %d sets compared", version, compared, len(sets))
		}
		t.Logf("%s: %d sets equal through its go tool preprofile", version, compared)
	}
	// The comment claims exactly what was checked here.
	var checked []string
	for line := range tested {
		checked = append(checked, line)
	}
	sort.Strings(checked)
	if fmt.Sprint(claimed) != fmt.Sprint(checked) {
		t.Errorf("the trimmed profile claims to be proven for %v; this test checked %v", claimed, checked)
	}
}

// preprocessWith is preprocess with a given toolchain's preprofile tool.
func preprocessWith(t *testing.T, tool, file string) ([]byte, string) {
	t.Helper()
	cmd := exec.Command(tool, "-i", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, msg
		}
		t.Fatalf("%s -i %s: %v", tool, file, err)
	}
	return stdout.Bytes(), ""
}

// fakeGo is a go command that prints version for `go env GOVERSION`, or
// fails when version is empty.
func fakeGo(t *testing.T, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(path, []byte(testenv.FakeGoScript(version)), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTrimGoVersions(t *testing.T) {
	requireBinary(t)
	grpc := testenv.RealProfile(t)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.pgo")
	if r := pgofetch(t, "-fail", "-trim=false", "-in", grpc, full); r.code != 0 {
		t.Fatal(r)
	}
	for _, c := range []struct {
		version  string
		trims    bool
		saysFull string // the one line when the full profile is written
	}{
		{"go1.99", false, "newer than the Go versions -trim is proven for"},
		{"devel go1.28-0123abcd Mon Jan 4 00:00:00 2027 +0000", false, "newer than the Go versions -trim is proven for"},
		{"go1.28rc1", false, "newer than the Go versions -trim is proven for"},
		{"go1.27.9", true, ""},
		{"go1.21.0", true, ""},
		{"", false, "cannot tell which Go will build"},
	} {
		t.Run(strings.Fields(c.version + " broken")[0], func(t *testing.T) {
			gobin := fakeGo(t, c.version)
			dest := filepath.Join(t.TempDir(), "default.pgo")
			r := pgofetch(t, "-fail", "-go", gobin, "-in", grpc, dest)
			if r.code != 0 {
				t.Fatal(r)
			}
			same := bytes.Equal(readFile(t, dest), readFile(t, full))
			if c.trims && same {
				t.Fatalf("go %q: pgofetch wrote the full profile, want it trimmed\n%s", c.version, r)
			}
			if c.trims {
				return
			}
			if !same {
				t.Errorf("go %q: DEST differs from what -trim=false writes", c.version)
			}
			var says []string
			for _, l := range r.lines() {
				if strings.Contains(l, "writing the full profile") {
					says = append(says, l)
				}
			}
			if len(says) != 1 || !strings.Contains(says[0], c.saysFull) || !strings.Contains(says[0], "go1.27") ||
				(c.version != "" && !strings.Contains(says[0], c.version)) {
				t.Errorf("go %q: want one line saying why the full profile is written (%q, the version, the newest proven), got %q\n%s",
					c.version, c.saysFull, says, r)
			}
		})
	}
}

// With no go on PATH (and no -go) pgofetch cannot ask: it trims, as
// proven for the Go versions it names, and says so under -v.
func TestTrimNoGoOnPath(t *testing.T) {
	requireBinary(t)
	dest := filepath.Join(t.TempDir(), "default.pgo")
	cmd := exec.Command(binary(t), "-v", "-fail", "-in", testenv.RealProfile(t), dest)
	cmd.Env = append(env(), "PATH="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "no go on PATH") || !strings.Contains(string(out), "trimmed the profile") {
		t.Errorf("want a debug line about no go on PATH, and a trimmed profile\n%s", out)
	}
}
