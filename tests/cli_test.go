package tests

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// usageText runs pgofetch -h and returns the usage it prints (on stdout or
// stderr, whichever it uses; the other must stay empty).
func usageText(t *testing.T, flag string) string {
	t.Helper()
	r := pgofetch(t, flag)
	if r.code != 0 {
		t.Fatalf("%s: exit code %d, want 0\n%s", flag, r.code, r)
	}
	if (r.stdout == "") == (r.stderr == "") {
		t.Fatalf("%s: want the usage on exactly one of stdout and stderr\n%s", flag, r)
	}
	return r.stdout + r.stderr
}

// -h and -help print the usage: the synopsis and every flag the contract
// names.
func TestHelp(t *testing.T) {
	requireBinary(t)
	for _, flag := range []string{"-h", "--help", "-help"} {
		u := usageText(t, flag)
		if !strings.HasPrefix(u, "usage: pgofetch [OPTIONS]... [QUERY...] DEST\n") {
			t.Errorf("%s: usage does not start with the synopsis:\n%s", flag, u)
		}
		for _, f := range []string{"in", "profiles", "from", "timeout", "max-age", "api-url", "endpoint",
			"trim", "format", "noinline", "comment", "fail", "json", "v", "version"} {
			if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f) + `\b`).MatchString(u) {
				t.Errorf("%s: usage does not list -%s", flag, f)
			}
		}
	}
}

// -version prints one line with the program's name and a version number.
func TestVersion(t *testing.T) {
	requireBinary(t)
	r := pgofetch(t, "-version")
	if r.code != 0 {
		t.Fatalf("exit code %d\n%s", r.code, r)
	}
	out := r.stdout + r.stderr
	if !regexp.MustCompile(`^pgofetch v?\d+\.\d+\.\d+\S*( .*)?\n$`).MatchString(out) {
		t.Errorf("-version printed %q, want one line \"pgofetch X.Y.Z ...\"", out)
	}
}

// Go's flag syntax: -x and --x, -x=v and -x v, booleans as -x or -x=false;
// every spelling gives the same DEST.
func TestFlagSyntax(t *testing.T) {
	requireBinary(t)
	src := t.TempDir()
	a, b := twoProfiles(t, src)
	want := oracle(t, false, a, b)
	for i, args := range [][]string{
		{"-trim=false", "-comment=false", "-noinline=false", "-fail", "-in", a, "-in", b},
		{"--trim=false", "--comment=false", "--noinline=false", "--fail", "--in", a, "--in", b},
		{"-trim=false", "-comment=false", "-noinline=0", "-fail=true", "-in=" + a, "--in=" + b},
		{"-trim=f", "-comment=FALSE", "--noinline=False", "-fail=1", "-timeout", "1m30s", "-in", a, "-in=" + b},
		{"-trim=false", "-comment=false", "-noinline=false", "-timeout=500ms", "-v", "-fail", "-in", a, "-in", b, "--"},
	} {
		dest := filepath.Join(t.TempDir(), "default.pgo")
		args := append(args, dest) // after "--" in the last spelling: it ends the flags
		r := pgofetch(t, args...)
		if r.code != 0 {
			t.Errorf("spelling %d: pgofetch failed\n%s", i, r)
			continue
		}
		if got := gunzip(t, readFile(t, dest)); !bytes.Equal(got, want) {
			t.Errorf("spelling %d (%s): DEST differs from refmerge -noinline=false", i, strings.Join(args, " "))
		}
	}
}

// A failure with -json: every line a JSON object, one ERROR naming the
// source, a WARN that the build goes on.
func TestJSONFailure(t *testing.T) {
	requireBinary(t)
	bad := writeFile(t, filepath.Join(t.TempDir(), "bad.pprof"), []byte("not a profile at all"))
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := pgofetch(t, "-json", "-in", bad, dest)
	if r.code != 0 {
		t.Fatalf("exit code %d without -fail\n%s", r.code, r)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty: %q", r.stdout)
	}
	var errs, warns int
	for _, o := range jsonLines(t, r) {
		switch o["level"] {
		case "ERROR":
			errs++
			if msg, _ := o["msg"].(string); !strings.Contains(msg, bad) {
				t.Errorf("the ERROR's msg does not name %s: %v", bad, o)
			}
		case "WARN":
			warns++
		}
	}
	if errs != 1 || warns == 0 {
		t.Errorf("%d ERROR and %d WARN objects, want 1 and at least 1\n%s", errs, warns, r)
	}
}
