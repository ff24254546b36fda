package tests

// -noinline-func and -noinline-file, proven with the compiler: a small
// program profiled under runtime/pprof has one hot function, too big for
// Go's normal inlining budget and small enough for a PGO-hot call site's.
// Built with the plain profile, `go build -gcflags=-m=2` inlines it; built
// with the profile pgofetch writes with the function listed, it does not.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/pprof/profile"
)

const hotProgram = `package main

import (
	"flag"
	"os"
	"runtime/pprof"
	"time"
)

var sink int

// mix costs 99: over the normal inlining budget (80), under a PGO-hot call
// site's (2000).
func mix(xs []int, k int) int {
	s := 0
	for i, x := range xs {
		switch {
		case x%3 == 0:
			s += x*k ^ i
		case x%5 == 0:
			s -= x >> 1
		case x%7 == 0:
			s ^= x << 2
		default:
			s += (x * 7) % 11
		}
		s ^= s << 3
		s += i * k
		s = s>>1 ^ s<<1
		if s < 0 {
			s = -s + x%13
		}
		s += (s % 17) * (x % 19)
	}
	return s
}

func main() {
	out := flag.String("o", "", "write a CPU profile here")
	d := flag.Duration("d", time.Second, "how long to run")
	flag.Parse()
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	xs := make([]int, 4096)
	for i := range xs {
		xs[i] = i * 31
	}
	for end := time.Now().Add(*d); time.Now().Before(end); {
		for k := 0; k < 100; k++ {
			sink += mix(xs, k)
		}
	}
}
`

var (
	hotOnce            sync.Once
	hotDir, hotProfile string
	hotErr             error
)

// hotProgramProfile builds the program and profiles 1.5 s of it, once per run.
func hotProgramProfile(t *testing.T) (dir, prof string) {
	t.Helper()
	hotOnce.Do(func() {
		hotDir = filepath.Join(scratch, "hot")
		os.MkdirAll(hotDir, 0o755)
		os.WriteFile(filepath.Join(hotDir, "go.mod"), []byte("module hot\n\ngo 1.21\n"), 0o644)
		os.WriteFile(filepath.Join(hotDir, "main.go"), []byte(hotProgram), 0o644)
		var out []byte
		if out, hotErr = goIn(hotDir, "build", "-o", "hot", "."); hotErr != nil {
			hotErr = &buildError{"building the hot program", hotErr, out}
			return
		}
		hotProfile = filepath.Join(hotDir, "cpu.pprof")
		cmd := exec.Command(filepath.Join(hotDir, "hot"), "-o", hotProfile, "-d", "1500ms")
		if out, err := cmd.CombinedOutput(); err != nil {
			hotErr = &buildError{"running the hot program", err, out}
		}
	})
	if hotErr != nil {
		t.Fatal(hotErr)
	}
	return hotDir, hotProfile
}

type buildError struct {
	what string
	err  error
	out  []byte
}

func (e *buildError) Error() string { return e.what + ": " + e.err.Error() + "\n" + string(e.out) }

// goIn runs the installed go in dir, with no workspace and no flags from
// the environment.
func goIn(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	return cmd.CombinedOutput()
}

// inlinesMix builds the program with pgo and says whether the compiler
// inlined mix into main.
func inlinesMix(t *testing.T, dir, pgo string) bool {
	t.Helper()
	out, err := goIn(dir, "build", "-pgo="+pgo, "-gcflags=-m=2", "-o", os.DevNull, ".")
	if err != nil {
		t.Fatalf("go build -pgo=%s: %v\n%s", pgo, err, out)
	}
	if !strings.Contains(string(out), "mix") {
		t.Fatalf("go build -gcflags=-m=2 says nothing about mix:\n%s", out)
	}
	return strings.Contains(string(out), "inlining call to mix")
}

func TestNoInlineList(t *testing.T) {
	requireBinary(t)
	dir, prof := hotProgramProfile(t)
	// Without PGO mix is too big to inline: the inlining below is PGO's.
	out, err := goIn(dir, "build", "-pgo=off", "-gcflags=-m=2", "-o", os.DevNull, ".")
	if err != nil || !strings.Contains(string(out), "cannot inline mix: function too complex") {
		t.Fatalf("without PGO, want mix too complex to inline: %v\n%s", err, out)
	}
	file := writeFile(t, filepath.Join(t.TempDir(), "noinline.txt"),
		[]byte("# functions PGO must not inline\n\n  main\\.mix  \n# done\n"))
	for _, c := range []struct {
		name    string
		args    []string
		inlined bool
		comment string
	}{
		{"none", nil, true, ""},
		{"func", []string{"-noinline-func", `main\.mix`}, false, `pgofetch: no-inline regexp "main\.mix"`},
		{"file", []string{"-noinline-file", file}, false, `pgofetch: no-inline regexp "main\.mix"`},
		{"alternation", []string{"-noinline-func", `main\.(nothing|mix)`, "-noinline=false"}, false, ""},
		// Whole-name match: "mix" alone names no function.
		{"unanchored", []string{"-noinline-func", "mix"}, true, `pgofetch: no-inline regexp "mix"`},
		{"untrimmed", []string{"-trim=false", "-noinline-func", `main\..*`}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			pgo := filepath.Join(t.TempDir(), "default.pgo")
			r := pgofetch(t, append(append([]string{"-fail"}, c.args...), "-in", prof, pgo)...)
			if r.code != 0 {
				t.Fatal(r)
			}
			if got := inlinesMix(t, dir, pgo); got != c.inlined {
				t.Errorf("%v: go build -gcflags=-m=2 inlines mix: %v, want %v", c.args, got, c.inlined)
			}
			if c.comment == "" {
				return
			}
			p, err := profile.Parse(strings.NewReader(string(readFile(t, pgo))))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(p.Comments, "\n"), c.comment) {
				t.Errorf("%v: comments %q lack %q", c.args, p.Comments, c.comment)
			}
		})
	}
}

// A bad expression, a missing file and a bad line of a file are usage
// errors (exit 2, whatever -fail says) that name the flag or FILE:LINE.
func TestNoInlineListErrors(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in.pprof"), readFile(t, realProfiles(t)[3]))
	bad := writeFile(t, filepath.Join(dir, "bad.txt"), []byte("# ok\nmain\\.ok\nmain.(\n"))
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-noinline-func", "main.("}, `-noinline-func: invalid regular expression "main.("`},
		{[]string{"-noinline-func", "a)|(b"}, `-noinline-func: invalid regular expression "a)|(b"`},
		{[]string{"-noinline-file", filepath.Join(dir, "missing.txt")}, "-noinline-file " + filepath.Join(dir, "missing.txt") + ": No such file"},
		{[]string{"-noinline-file", bad}, "-noinline-file " + bad + ":3: invalid regular expression"},
	} {
		dest := filepath.Join(dir, "default.pgo")
		r := pgofetch(t, append(c.args, "-in", in, dest)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.says) {
			t.Errorf("%v: want exit 2 saying %q\n%s", c.args, c.says, r)
		}
		if _, err := os.Stat(dest); err == nil {
			t.Errorf("%v: DEST written despite the usage error", c.args)
		}
	}
}
