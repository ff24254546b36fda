package makeinclude

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgofetch/tests/internal/testenv"
)

// A contributor without keys needs no pgofetch at all: one line says the
// build goes on without PGO and which keys are missing; the next make
// builds nothing; PGO_FAIL=1 makes it an error.
func TestNoKeys(t *testing.T) {
	w := newWork(t, makefile("cmd/batch,service:example env:test"))
	w.env = nil
	w.vars = append(w.vars, "PGO_PGOFETCH="+filepath.Join(t.TempDir(), "no", "pgofetch"))

	out := w.mustMake()
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("go build ran %d times, want once", n)
	}
	want := "pgo.mk: note: bin/batch builds without PGO: no cmd/batch/default.pgo yet; DD_API_KEY and DD_APP_KEY are not set to fetch one (PGO_IN can name a profile file instead)"
	if l := pgoLines(out); len(l) != 1 || l[0] != want {
		t.Errorf("pgo.mk said %q, want only %q", l, want)
	}
	b := w.ident("bin/batch")
	time.Sleep(20 * time.Millisecond)
	out = w.mustMake()
	w.nothingRebuilt("second make", out, "bin/batch", b)

	w.env = []string{"DD_APP_KEY=" + appKey}
	out = w.mustMake()
	if !strings.Contains(out, "; DD_API_KEY is not set to fetch one") {
		t.Errorf("with DD_APP_KEY set, the line should name DD_API_KEY alone")
	}
	w.nothingRebuilt("one key", out, "bin/batch", b)

	w.env = nil
	out, ok := w.make("PGO_FAIL=1")
	if ok || !strings.Contains(out, "pgo.mk: error: cmd/batch/default.pgo not refreshed, and PGO_FAIL=1 stops the build: DD_API_KEY and DD_APP_KEY are not set") {
		t.Errorf("PGO_FAIL=1 without keys must fail, saying why")
	}

	// A profile file as well: it alone makes default.pgo, as the line
	// above advises, and the binary is rebuilt once, with it.
	out = w.mustMake("PGO_PGOFETCH="+testenv.Pgofetch(t), "PGO_IN="+inSource(w))
	if !strings.Contains(out, "pgo.mk: note: DD_API_KEY and DD_APP_KEY are not set: cmd/batch/default.pgo is made from the -in sources alone, without the Datadog queries") {
		t.Errorf("without keys, a PGO_IN file did not make the profile, saying so")
	}
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("the first profile: go build ran %d times, want once", n)
	}
	w.builtWithProfile("bin/batch", "cmd/batch")
}

// The run that first gets a profile rebuilds the binary, once, with it;
// runs before it and after it build nothing.
func TestFirstProfile(t *testing.T) {
	w := newWorkWith(t, "")
	src := filepath.Join(filepath.Dir(w.dir), "cpu.pprof")
	w.writeMakefile(makefile("cmd/batch,,," + src))

	out := w.mustMake()
	if !strings.Contains(out, "pgo.mk: warning: bin/batch builds without PGO: no cmd/batch/default.pgo yet; a source could not be read") {
		t.Errorf("no one-line warning for the missing profile file")
	}
	b0 := w.ident("bin/batch")
	out = w.mustMake()
	w.nothingRebuilt("still no profile", out, "bin/batch", b0)

	if err := os.WriteFile(src, profileA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	out = w.mustMake()
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("first profile: go build ran %d times, want once", n)
	}
	w.builtWithProfile("bin/batch", "cmd/batch")
	b1 := w.ident("bin/batch")
	out = w.mustMake()
	w.nothingRebuilt("same profile", out, "bin/batch", b1)

	// pgo-clean takes the profile away: one rebuild without PGO.
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	w.mustMake("pgo-clean")
	out = w.mustMake()
	if !strings.Contains(out, "pgo.mk: cmd/batch/default.pgo is gone: bin/batch is rebuilt without PGO") ||
		strings.Count(out, "go build") != 1 || w.pgoPath("bin/batch") != "" {
		t.Errorf("after pgo-clean: want one rebuild without PGO")
	}
}

// What would wire a declaration wrongly in silence stops make, naming it.
func TestDeclarationErrors(t *testing.T) {
	cases := []struct {
		name, mk, want string
	}{
		{"fifth argument", makefile("cmd/batch,service:a,bin/batch,,x"),
			"pgo_profile cmd/batch: more than 4 arguments ('x'...)"},
		{"comma in a query", makefile("cmd/batch,service:a,env:prod"),
			"pgo_profile cmd/batch: BINARY 'env:prod' looks like part of a query"},
		{"binary from a variable set later", "include $(PGOFETCH_DIR)/make-include/pgo.mk\n" +
			"$(eval $(call pgo_profile,cmd/batch,service:a,$(OUT)/))\nOUT := bin\n",
			"pgo_profile cmd/batch: BINARY '/' ends in /: is a variable in it set only after this declaration?"},
		{"binary is a directory", makefile("cmd/batch,service:a,cmd"),
			"pgo_profile cmd/batch: BINARY 'cmd' is a directory"},
		{"no Go package", makefile("cmd/nope,service:a"),
			"pgo_profile cmd/nope: no .go files in "},
		{"declared twice", makefile("cmd/batch,service:a", "./cmd/batch/,service:b"),
			"pgo_profile cmd/batch: declared twice"},
		{"module root without a main package", makefile(".,service:a"),
			"pgo_profile .: no .go files in "},
		{"PGO_BINDIR after the declaration", makefile("cmd/batch,service:a") + "PGO_BINDIR := out\n",
			"pgo.mk: error: PGO_BINDIR is set after pgo_profile cmd/batch named its binary bin/batch: set PGO_BINDIR before the declaration"},
	}
	w := newWorkWith(t, "")
	w.env = nil
	for _, c := range cases {
		w.writeMakefile(c.mk)
		out, ok := w.make("pgo")
		if ok || !strings.Contains(out, c.want) {
			t.Errorf("%s: make did not stop with %q", c.name, c.want)
		}
		if strings.Contains(out, "go build") || strings.Contains(out, "INF pgofetch") {
			t.Errorf("%s: make went on", c.name)
		}
	}
}

// The module root's binary is named as go build names it: after the
// module path, less its major version suffix, not after the directory.
func TestModuleRootBinary(t *testing.T) {
	w := newWorkWith(t, "")
	for name, data := range map[string]string{
		"go.mod":  "module example.com/tools/widget/v2\n\ngo 1.21\n",
		"main.go": "package main\n\nfunc main() {}\n",
	} {
		if err := os.WriteFile(filepath.Join(w.dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.writeMakefile("include $(PGOFETCH_DIR)/make-include/pgo.mk\n$(eval $(call pgo_profile,.,service:a))\n")
	out := w.mustMake("pgo-help")
	if !strings.Contains(out, "binary:  bin/widget (stamp bin/.widget.pgo-stamp)") {
		t.Errorf("the module root's binary is not bin/widget")
	}
}

// pgo.mk refuses a GNU Make older than the functions it uses, in one line.
// (MAKE_VERSION given on the command line stands in for an old make.)
func TestMakeVersion(t *testing.T) {
	w := newWorkWith(t, makefile("cmd/batch,service:a"))
	for _, v := range []string{"3.80", "3.79.1", "2.9"} {
		out, ok := w.make("MAKE_VERSION="+v, "pgo-help")
		want := "pgo.mk needs GNU Make 3.81 or later, and this is make " + v + ": install a newer one (macOS: brew install make, then run gmake)"
		if ok || !strings.Contains(out, want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("make %s: want the one line %q", v, want)
		}
	}
	for _, v := range []string{"3.81", "3.82", "4.0", "4.4.1", "10.0"} {
		if out, ok := w.make("MAKE_VERSION="+v, "pgo-help"); !ok || strings.Contains(out, "needs GNU Make") {
			t.Errorf("make %s was refused", v)
		}
	}
}

// Cross builds: one declaration, a binary per platform, each built with
// the same profile (a profile names functions, not machine code) and each
// rebuilt only when it changes.
func TestCrossBuild(t *testing.T) {
	w := newWorkWith(t, "")
	w.env = nil
	w.writeMakefile("include $(PGOFETCH_DIR)/make-include/pgo.mk\n\n" +
		"GO_SOURCES := $(shell find . -name '*.go') go.mod\n\n" +
		"$(eval $(call pgo_profile,cmd/batch,,bin/batch bin/batch-linux-386,$(PROFILE)))\n\n" +
		"all: bin/batch bin/batch-linux-386\n\n" +
		"bin/batch: $(GO_SOURCES)\n\tgo build -o $@ ./cmd/batch\n" +
		"bin/batch-linux-%: $(GO_SOURCES)\n\tGOOS=linux GOARCH=$* go build -o $@ ./cmd/batch\n")
	w.vars = append(w.vars, "PROFILE="+inSource(w))

	out := w.mustMake()
	if n := strings.Count(out, "go build"); n != 2 {
		t.Errorf("go build ran %d times, want twice", n)
	}
	for _, bin := range []string{"bin/batch", "bin/batch-linux-386"} {
		w.builtWithProfile(bin, "cmd/batch")
	}
	if got, _ := w.make("pgo-check"); strings.Count(got, "pgo-check: ok bin/") != 2 {
		t.Errorf("pgo-check did not vouch for both binaries")
	}
	b1, b2 := w.ident("bin/batch"), w.ident("bin/batch-linux-386")
	out = w.mustMake()
	w.nothingRebuilt("second make", out, "bin/batch", b1)
	w.nothingRebuilt("second make", out, "bin/batch-linux-386", b2)
}
