package tests

// pgofetch check against real programs profiled under runtime/pprof: a
// profile matches the code it was taken from, and stops matching where a
// hot function is renamed after profiling, for a package (built with go
// list -export) and for a built binary.

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type checkReport struct {
	Matched    float64
	Edges      int
	Time       *string
	AgeSeconds *float64 `json:"age_seconds"`
	Comments   []string
	Missing    []struct {
		Function string
		Share    float64
	}
}

var closureName = regexp.MustCompile(`\.func\d+$`)

func runCheck(t *testing.T, args ...string) (checkReport, result) {
	t.Helper()
	r := pgofetch(t, append([]string{"check", "-json"}, args...)...)
	var rep checkReport
	if r.code == 0 || r.code == 8 {
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 {
			t.Fatalf("check -json printed no single JSON object: %v\n%s", err, r)
		}
	}
	return rep, r
}

// renamedCopy copies the program in src to a new directory with every
// "old(" written "new(": the function renamed after profiling.
func renamedCopy(t *testing.T, src, old, new string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{"go.mod", "main.go"} {
		data := string(readFile(t, filepath.Join(src, f)))
		if f == "main.go" {
			if !strings.Contains(data, old+"(") {
				t.Fatalf("%s has no %s(", f, old)
			}
			data = strings.ReplaceAll(data, old+"(", new+"(")
		}
		writeFile(t, filepath.Join(dst, f), []byte(data))
	}
	return dst
}

func TestCheckRenamedHotFunction(t *testing.T) {
	requireBinary(t)
	realProfiles(t)
	dir := filepath.Join(scratch, "real") // the workload and its profiles
	prof := filepath.Join(dir, "real1.pprof")
	pgo := filepath.Join(t.TempDir(), "default.pgo")
	if r := pgofetch(t, "-fail", "-in", prof, pgo); r.code != 0 {
		t.Fatal(r)
	}

	// Against the code it was taken from, nearly all matches: the package,
	// its binary, and the binary stripped (-s -w) and built with the
	// profile, where the linker keeps no symbol of inlined functions.
	stripped := filepath.Join(t.TempDir(), "workload")
	if out, err := goIn(dir, "build", "-ldflags=-s -w", "-pgo="+pgo, "-o", stripped, "."); err != nil {
		t.Fatalf("building the stripped workload: %v\n%s", err, out)
	}
	for _, target := range []string{dir, filepath.Join(dir, "workload"), stripped} {
		// -fail-below on the package only: a binary may miss closures
		// (below), more than 10 % of the weight in some profiles.
		args := []string{pgo, target}
		if target == dir {
			args = append([]string{"-fail-below", "90"}, args...)
		}
		rep, r := runCheck(t, args...)
		if r.code != 0 || rep.Edges < 10 {
			t.Fatalf("check of the profile against its own code %s: want exit 0 over 10+ edges\n%s", target, r)
		}
		// A binary lacks the closures of functions inlined everywhere: the
		// linker drops the originals, and the inlined copies have other
		// names (main.main.func1.sortWork.1 for main.sortWork.func1). A
		// package has them all.
		closures := 0.0
		for _, m := range rep.Missing {
			if target != dir && closureName.MatchString(m.Function) {
				closures += m.Share
			} else if strings.HasPrefix(m.Function, "main.") {
				t.Errorf("%s: main function %s reported missing\n%s", target, m.Function, r)
			}
		}
		if rep.Matched+closures < 0.97 {
			t.Errorf("%s: matched %.3f (+%.3f of closures): want 0.97 or more\n%s", target, rep.Matched, closures, r)
		}
		if rep.Time == nil || rep.AgeSeconds == nil || *rep.AgeSeconds < 0 || *rep.AgeSeconds > 3600 {
			t.Errorf("want the profile's time and an age under an hour, got %v %v", rep.Time, rep.AgeSeconds)
		}
		if !strings.Contains(strings.Join(rep.Comments, "\n"), "pgofetch: source "+prof) {
			t.Errorf("want the profile's provenance in comments, got %q", rep.Comments)
		}
	}

	// hashLoop renamed after profiling: its weight is missing.
	renamed := renamedCopy(t, dir, "hashLoop", "hashLoopRenamed")
	if out, err := goIn(renamed, "build", "-o", "workload", "."); err != nil {
		t.Fatalf("building the renamed workload: %v\n%s", err, out)
	}
	for _, target := range []string{renamed, filepath.Join(renamed, "workload")} {
		rep, r := runCheck(t, "-fail-below", "90", pgo, target)
		if r.code != 8 || !strings.Contains(r.stderr, "-fail-below 90") {
			t.Errorf("%s: want exit 8 and a line naming -fail-below\n%s", target, r)
		}
		if len(rep.Missing) == 0 || rep.Missing[0].Function != "main.hashLoop" {
			t.Fatalf("%s: want main.hashLoop the hottest missing function\n%s", target, r)
		}
		// The workload's other functions keep some weight; how much
		// depends on the machine's load while it was profiled.
		hot := rep.Missing[0].Share
		if hot < 0.2 || rep.Matched > 1-hot+1e-9 || rep.Matched <= 0 {
			t.Errorf("%s: main.hashLoop share %.3f, matched %.3f: want a hot share, and matched above 0 and at most 1-share",
				target, hot, rep.Matched)
		}
		for _, m := range rep.Missing {
			if m.Function == "main.hashLoopRenamed" || m.Share <= 0 || m.Share > 1 {
				t.Errorf("%s: bad missing entry %+v", target, m)
			}
		}
	}

	// The text report names it too.
	r := pgofetch(t, "check", pgo, renamed)
	if r.code != 0 || !strings.Contains(r.stdout, "main.hashLoop") || !strings.Contains(r.stdout, "matched: ") {
		t.Errorf("text report: want exit 0, a matched line and main.hashLoop\n%s", r)
	}
}

// The same with the no-inline rename's "DO NOT INLINE: " names: the
// function is the one the code has.
func TestCheckNoInlineNames(t *testing.T) {
	requireBinary(t)
	dir, prof := hotProgramProfile(t)
	pgo := filepath.Join(t.TempDir(), "default.pgo")
	if r := pgofetch(t, "-fail", "-noinline-func", `main\.mix`, "-in", prof, pgo); r.code != 0 {
		t.Fatal(r)
	}
	if rep, r := runCheck(t, pgo, dir); r.code != 0 || rep.Matched < 0.97 {
		t.Errorf("want the renamed main.mix matched in its own code\n%s", r)
	}
	renamed := renamedCopy(t, dir, "mix", "mixed")
	rep, r := runCheck(t, pgo, renamed)
	if r.code != 0 || len(rep.Missing) == 0 || rep.Missing[0].Function != "main.mix" {
		t.Errorf("want main.mix (without its DO NOT INLINE: prefix) missing\n%s", r)
	}
}

func TestCheckErrors(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	prof := realProfiles(t)[0]
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"check"}, 2, "want two arguments"},
		{[]string{"check", "-fail-below", "101", prof, dir}, 2, "-fail-below"},
		{[]string{"check", "-nope", prof, dir}, 2, "flag provided but not defined"},
		{[]string{"check", "-json=maybe", prof, dir}, 2, "-json"},
		{[]string{"check", "-fail-below"}, 2, "flag needs an argument"},
		{[]string{"check", filepath.Join(dir, "missing.pgo"), dir}, 3, "missing.pgo"},
		{[]string{"check", prof, filepath.Join(dir, "no-such-package")}, 3, "go list"},
		{[]string{"check", writeFile(t, filepath.Join(dir, "junk.pgo"), []byte("junk")), dir}, 4, "junk.pgo"},
	} {
		r := pgofetch(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.says) {
			t.Errorf("%v: want exit %d saying %q\n%s", c.args, c.code, c.says, r)
		}
	}
	if r := pgofetch(t, "check", "-h"); r.code != 0 || !strings.Contains(r.stdout, "usage: pgofetch check") {
		t.Errorf("check -h: want the usage on stdout\n%s", r)
	}
}
