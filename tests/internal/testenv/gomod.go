package testenv

// What the Go module proxy serves at test time: the source of third-party Go
// projects the integrations are tried on, and Go tools (act, Gazelle,
// benchstat). The first run fills the module cache; later runs try the cache
// alone first (GOPROXY=off), so the suite runs offline once it is filled.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Skip ends a test that cannot get what it needs (a tool, a module, root
// rights). It is never silent: the reason is appended to the skip log that
// `make test` prints at its end, and with PGOFETCH_NO_SKIP=1 (CI sets it)
// the test fails instead, since a skipped test proves nothing.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if os.Getenv("PGOFETCH_NO_SKIP") == "1" {
		t.Fatalf("cannot run (PGOFETCH_NO_SKIP=1 forbids skipping): %s", reason)
	}
	if f, err := os.OpenFile(SkipLog(t), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
		fmt.Fprintf(f, "%s: %s\n", t.Name(), strings.ReplaceAll(reason, "\n", " "))
		f.Close()
	}
	t.Skipf("SKIPPED: %s", reason)
}

// SkipLog is the file Skip appends to: $PGOFETCH_SKIP_LOG, else
// tests/.cache/skipped.log.
func SkipLog(t testing.TB) string {
	if p := os.Getenv("PGOFETCH_SKIP_LOG"); p != "" {
		return p
	}
	dir := filepath.Join(RepoRoot(t), "tests", ".cache")
	os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, "skipped.log")
}

// goEnv is the environment of the go commands run here: modules on, no
// toolchain switch (no other Go version is fetched), and the proxy only when
// online is true.
func goEnv(online bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GOFLAGS=") || strings.HasPrefix(kv, "GOTOOLCHAIN=") ||
			strings.HasPrefix(kv, "GO111MODULE=") || (!online && strings.HasPrefix(kv, "GOPROXY=")) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GO111MODULE=on")
	if !online {
		env = append(env, "GOPROXY=off")
	}
	return env
}

// goRun runs the go command in dir, from the module cache alone first and
// through the proxy when the cache lacks something.
func goRun(dir string, args ...string) ([]byte, error) {
	var out []byte
	var err error
	for _, online := range []bool{false, true} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = goEnv(online)
		if out, err = cmd.Output(); err == nil {
			return out, nil
		}
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
	}
	return out, err
}

// scratchModule is an empty module to run go get and go mod download in.
func scratchModule(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module scratch\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ModuleSource copies the source of MODULE@VERSION, as the module proxy
// serves it, into dst (made writable) and downloads what its go.mod needs,
// so builds in dst then run with GOPROXY=off. It skips (loudly) when
// neither the module cache nor the proxy has the module.
func ModuleSource(t testing.TB, modVer, dst string) {
	t.Helper()
	out, err := goRun(scratchModule(t), "mod", "download", "-json", modVer)
	if err != nil {
		Skip(t, "the Go module proxy cannot serve %s: %v", modVer, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		Skip(t, "go mod download %s gave no source directory: %v %s", modVer, err, info.Error)
	}
	copyWritable(t, info.Dir, dst)
	if _, err := goRun(dst, "mod", "download"); err != nil {
		Skip(t, "the dependencies of %s cannot be downloaded: %v", modVer, err)
	}
}

// copyWritable copies a read-only module cache tree, adding the owner's
// write bit so tests can edit the copy.
func copyWritable(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm()|0o200)
	})
	if err != nil {
		t.Fatalf("testenv: copying %s: %v", src, err)
	}
}

var toolMu sync.Mutex

// GoTool builds the main package PKG@VERSION (e.g.
// "github.com/nektos/act@v0.2.89") inside a throwaway module, once per
// machine, into tests/.cache/tools, and returns the binary's path. It skips
// (loudly) when the module proxy cannot serve it or it does not build with
// the installed Go.
func GoTool(t testing.TB, pkgVer string) string {
	t.Helper()
	pkg, ver, ok := strings.Cut(pkgVer, "@")
	if !ok {
		t.Fatalf("testenv: GoTool wants PKG@VERSION, not %q", pkgVer)
	}
	dir := filepath.Join(RepoRoot(t), "tests", ".cache", "tools", strings.ReplaceAll(pkg, "/", "_")+"@"+ver)
	bin := filepath.Join(dir, filepath.Base(pkg))
	toolMu.Lock()
	defer toolMu.Unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	mod := scratchModule(t)
	if _, err := goRun(mod, "get", pkgVer); err != nil {
		Skip(t, "the Go module proxy cannot serve %s: %v", pkgVer, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Built beside and renamed, so a test package running at the same
	// time never sees half a binary.
	tmp := bin + ".tmp"
	if _, err := goRun(mod, "build", "-o", tmp, pkg); err != nil {
		Skip(t, "%s does not build with the installed Go: %v", pkgVer, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// GoToolchain returns the go command of Go release VERSION (e.g.
// "go1.27.3"), which the go command downloads through the module proxy
// with GOTOOLCHAIN=VERSION once per machine (then it is in the module
// cache). It skips (loudly) when the toolchain cannot be had. Only the
// versions the project names may be fetched: the installed Go and go1.27.3.
func GoToolchain(t testing.TB, version string) string {
	t.Helper()
	var env []string
	for _, kv := range goEnv(true) {
		if !strings.HasPrefix(kv, "GOTOOLCHAIN=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command("go", "env", "GOROOT")
	cmd.Dir = scratchModule(t)
	cmd.Env = append(env, "GOTOOLCHAIN="+version)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		Skip(t, "the go command cannot get %s through the module proxy (GOTOOLCHAIN=%s): %v %s", version, version, err, msg)
	}
	gobin := filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		Skip(t, "%s: GOROOT %s has no bin/go: %v", version, strings.TrimSpace(string(out)), err)
	}
	return gobin
}
