package testenv

// What the tests of integrations/pgo-compare and of each integration's
// compare entry share: the benchstat it pins, and the machine code of the
// test binaries it builds.

import (
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// BenchstatVersion is the benchstat version integrations/pgo-compare pins
// (its report.go), so that a test builds the same one.
func BenchstatVersion(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(RepoRoot(t), "integrations", "pgo-compare", "report.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const benchstatVersion = "(v[^"]+)"`).FindSubmatch(src)
	if m == nil {
		t.Fatal("integrations/pgo-compare/report.go: no benchstatVersion constant")
	}
	return string(m[1])
}

// Benchstat is that benchstat, built through the Go module proxy once
// (GoTool: a loud skip when it cannot be had).
func Benchstat(t testing.TB) string {
	t.Helper()
	return GoTool(t, "golang.org/x/perf/cmd/benchstat@"+BenchstatVersion(t))
}

// MachineCode is an ELF binary's .text section: what -pgo changes. The
// files differ anyway, in the build ID and build info that name the
// profile.
func MachineCode(t testing.TB, bin string) []byte {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".text")
	if s == nil {
		t.Fatalf("%s: no .text section", bin)
	}
	data, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
