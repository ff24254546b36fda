package makeinclude

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// matchedLine is pgo-check's verdict on a profile's match with the code.
var matchedLine = regexp.MustCompile(`(?m)^pgo-check: (ok|FAIL) cmd/batch/default\.pgo: (?:only )?([\d.]+)% of its weight names functions in \./cmd/batch`)

func matched(t *testing.T, out, verdict string) float64 {
	t.Helper()
	m := matchedLine.FindStringSubmatch(out)
	if m == nil || m[1] != verdict {
		t.Fatalf("pgo-check: want a line %s cmd/batch/default.pgo: N%% of its weight ..., got %q", verdict, m)
	}
	f, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// pgo-check runs pgofetch check on each profile against its package's
// code as it is now: a hot function renamed after profiling is reported
// missing and lowers the share; PGO_CHECK_BELOW above it fails the check.
// The go version -m check stays.
func TestCheckStale(t *testing.T) {
	w := newWorkWith(t, "")
	w.writeMakefile(makefile("cmd/batch,,," + benchProfile(w)))
	w.mustMake()
	out := w.mustMake("pgo-check")
	if !strings.Contains(out, "pgo-check: ok bin/batch: -pgo=") {
		t.Errorf("pgo-check no longer checks the binary's -pgo=")
	}
	if !strings.Contains(out, "  matched: ") || !strings.Contains(out, "  profile cmd/batch/default.pgo: taken ") {
		t.Errorf("pgo-check does not show pgofetch check's report")
	}
	before := matched(t, out, "ok")
	if before < 80 {
		t.Errorf("the profile of the code as it is: only %.1f%% matched", before)
	}
	const hot = "example.com/pgofetch-example/internal/work.parseRecord"
	if strings.Contains(out, hot) {
		t.Errorf("%s reported missing before it was renamed", hot)
	}

	// parseRecord renamed after profiling; nothing rebuilt.
	for _, f := range []string{"work.go", "work_test.go"} {
		p := filepath.Join(w.dir, "internal", "work", f)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(data), "parseRecord(", "parseRecordRenamed(")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out = w.mustMake("pgo-check")
	after := matched(t, out, "ok")
	if !regexp.MustCompile(`(?m)^  +[\d.]+%  ` + regexp.QuoteMeta(hot) + `$`).MatchString(out) {
		t.Errorf("the renamed %s is not among the missing functions", hot)
	}
	if after >= before {
		t.Fatalf("renaming a hot function left the match at %.1f%% (was %.1f%%)", after, before)
	}

	// A floor between the two: the renamed code fails it, naming it.
	floor := strconv.FormatFloat((before+after)/2, 'f', 1, 64)
	out, ok := w.make("pgo-check", "PGO_CHECK_BELOW="+floor)
	if ok {
		t.Errorf("pgo-check passed %.1f%% with PGO_CHECK_BELOW=%s", after, floor)
	}
	if matched(t, out, "FAIL"); !strings.Contains(out, ", below PGO_CHECK_BELOW="+floor+": refresh it") {
		t.Errorf("the failure does not name PGO_CHECK_BELOW")
	}
	out, ok = w.make("pgo-check", "PGO_CHECK_BELOW=lots")
	if ok || !strings.Contains(out, "pgo-check: FAIL cmd/batch/default.pgo: pgofetch check refused PGO_CHECK_BELOW=lots") {
		t.Errorf("a bad PGO_CHECK_BELOW: want a failure naming it")
	}

	// Without pgofetch the match cannot be checked: that fails too.
	out, ok = w.make("pgo-check", "PGO_PGOFETCH="+filepath.Join(t.TempDir(), "pgofetch"))
	if ok || !strings.Contains(out, "pgo-check: FAIL cmd/batch/default.pgo: no pgofetch to check its match with the code") {
		t.Errorf("pgo-check without pgofetch: want a failure saying so")
	}
}
