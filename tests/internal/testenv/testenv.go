// Package testenv finds what every end-to-end test needs: the repository,
// the pgofetch binary under test, its test data, and what the module proxy
// serves (third-party Go projects and Go tools: gomod.go).
package testenv

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RepoRoot is the top of the pgofetch repository.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate the repository")
	}
	// this file is tests/internal/testenv/testenv.go
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Pgofetch is the binary under test: $PGOFETCH, else build/core/pgofetch
// (what `make build` makes). A missing binary fails the test: the suite
// never passes by skipping what it was asked to check.
func Pgofetch(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("PGOFETCH")
	if bin == "" {
		bin = filepath.Join(RepoRoot(t), "build", "core", "pgofetch")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("testenv: pgofetch binary not found at %s (run `make build`, or set PGOFETCH): %v", abs, err)
	}
	return abs
}

// RealProfile is the real production Go CPU profile tracked in the
// repository (core/tests/data/pprof/grpc-anon.pprof; its README says where
// it comes from).
func RealProfile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "core", "tests", "data", "pprof", "grpc-anon.pprof")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("testenv: the real profile %s is missing: %v", p, err)
	}
	return p
}

// Example is the example Go service every integration builds.
func Example(t testing.TB) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "integrations", "example")
}

// CopyTree copies the directory src to dst (files and directories only),
// so a test can build the example without touching the source tree.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("testenv: copying %s: %v", src, err)
	}
}

// Decompressed is a profile's bytes as pgofetch decodes them: gunzipped
// when they are gzip, as they are otherwise.
func Decompressed(t testing.TB, data []byte) []byte {
	t.Helper()
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// GrepLines keeps the lines of s that contain sub, for failure messages.
func GrepLines(s, sub string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// FakeGoScript is a go command, as a shell script, that answers
// `go env GOVERSION` (all pgofetch and the integrations ask the go they
// are given) with version and fails on anything else; with version "" it
// fails on that too, as a broken toolchain does.
func FakeGoScript(version string) string {
	answer := "echo 'go: broken' >&2; exit 1"
	if version != "" {
		answer = "echo " + version + "; exit 0"
	}
	return "#!/bin/sh\nif [ \"$*\" = \"env GOVERSION\" ]; then " + answer + "; fi\necho \"fake go: $*\" >&2\nexit 2\n"
}
