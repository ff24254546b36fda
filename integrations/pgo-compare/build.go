package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A pkg is one package's pair of test binaries and the benchmarks to run.
type pkg struct {
	importPath, dir string
	off, pgo        string   // test binaries built with -pgo=off and -pgo=PROFILE
	benches         []string // top-level benchmark names matching -bench
	iters           map[string]int
}

// goCmd is a go command run in the module directory, its output to stderr
// (progress the user may want to see, apart from the report on stdout).
func goCmd(cfg *config, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = cfg.dir
	cmd.Stderr = os.Stderr
	return cmd
}

// buildPairs builds each package's test binary twice. `go test` would
// default to -pgo=auto, which ignores a default.pgo outside a main package's
// directory, so both sides are explicit: -pgo=off and -pgo=ABSOLUTE_PATH.
// Packages whose code the profile does not change are left out; when that
// leaves none, it is an error.
func buildPairs(cfg *config) ([]*pkg, error) {
	cmd := goCmd(cfg, append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}"}, cfg.patterns...)...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v", strings.Join(cfg.patterns, " "), err)
	}
	topBench, _, _ := strings.Cut(cfg.bench, "/")
	var pkgs []*pkg
	unchanged := 0
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		p := &pkg{importPath: path, dir: dir, iters: map[string]int{},
			off: filepath.Join(cfg.out, fmt.Sprintf("%d-off.test", i)),
			pgo: filepath.Join(cfg.out, fmt.Sprintf("%d-pgo.test", i))}
		fmt.Fprintf(os.Stderr, "pgo-compare: %s: building the test binary with -pgo=off and with the profile\n", path)
		if err := goCmd(cfg, "test", "-c", "-pgo=off", "-o", p.off, path).Run(); err != nil {
			return nil, fmt.Errorf("go test -c -pgo=off %s: %v", path, err)
		}
		if _, err := os.Stat(p.off); err != nil {
			continue // no test files
		}
		if err := listBenches(p, topBench); err != nil {
			return nil, err
		}
		if len(p.benches) == 0 {
			continue
		}
		if err := goCmd(cfg, "test", "-c", "-pgo="+cfg.profile, "-o", p.pgo, path).Run(); err != nil {
			return nil, fmt.Errorf("go test -c -pgo=%s %s: %v", cfg.profile, path, err)
		}
		// go version -m shows no -pgo= for test binaries, and the files
		// differ whenever the flag does (the build ID covers the
		// profile): the machine code is what shows PGO changed anything.
		same, err := sameCode(p.off, p.pgo)
		if err != nil {
			return nil, err
		}
		if same {
			fmt.Fprintf(os.Stderr, "pgo-compare: %s: the profile changed no machine code in its test binary (is it a profile of this code?)\n", path)
			unchanged++
			continue
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 && unchanged > 0 {
		return nil, fmt.Errorf("nothing to compare: the profile changes no code in the packages with benchmarks")
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("no benchmark matching -bench %q in %s", cfg.bench, strings.Join(cfg.patterns, " "))
	}
	return pkgs, nil
}

// listBenches sets p.benches to the top-level benchmarks of its test
// binary that match topBench.
func listBenches(p *pkg, topBench string) error {
	list, err := exec.Command(p.off, "-test.list", topBench).Output()
	if err != nil {
		return fmt.Errorf("%s -test.list: %v", p.off, err)
	}
	for _, name := range strings.Fields(string(list)) {
		if strings.HasPrefix(name, "Benchmark") {
			p.benches = append(p.benches, name)
		}
	}
	return nil
}

// givenPair is the pair of test binaries given with -binaries, built by
// another build system (Bazel's go_test with and without pgoprofile); they
// run in -dir.
func givenPair(cfg *config) ([]*pkg, error) {
	p := &pkg{importPath: filepath.Base(cfg.dir),
		dir: cfg.dir, off: cfg.binaries[0], pgo: cfg.binaries[1], iters: map[string]int{}}
	topBench, _, _ := strings.Cut(cfg.bench, "/")
	if err := listBenches(p, topBench); err != nil {
		return nil, err
	}
	if len(p.benches) == 0 {
		return nil, fmt.Errorf("no benchmark matching -bench %q in %s", cfg.bench, p.off)
	}
	same, err := sameCode(p.off, p.pgo)
	if err != nil {
		return nil, err
	}
	if same {
		return nil, fmt.Errorf("nothing to compare: %s and %s hold the same machine code", p.off, p.pgo)
	}
	return []*pkg{p}, nil
}

// sameCode reports whether two binaries hold the same machine code: the
// hashes of their text sections (ELF, Mach-O, PE), or of the whole files
// for other formats.
func sameCode(a, b string) (bool, error) {
	ha, err := hashCode(a)
	if err != nil {
		return false, err
	}
	hb, err := hashCode(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ha, hb), nil
}

func hashCode(name string) ([]byte, error) {
	var r io.Reader
	if f, err := elf.Open(name); err == nil {
		defer f.Close()
		if s := f.Section(".text"); s != nil {
			r = s.Open()
		}
	} else if f, err := macho.Open(name); err == nil {
		defer f.Close()
		if s := f.Section("__text"); s != nil {
			r = s.Open()
		}
	} else if f, err := pe.Open(name); err == nil {
		defer f.Close()
		if s := f.Section(".text"); s != nil {
			r = s.Open()
		}
	}
	if r == nil {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return h.Sum(nil), nil
}

// A timing is one go build's wall and CPU time (user+sys of the go command
// and the compilers and linker it waited for).
type timing struct{ wall, cpu time.Duration }

func (t timing) String() string {
	return fmt.Sprintf("%s (%s CPU)", seconds(t.wall), seconds(t.cpu))
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

type buildCost struct {
	pkgs                  []string
	off, pgo              timing // go build -a, without and with the profile
	unchanged, newProfile timing // rebuilds without -a
	newProfileFrom        string
}

// measureBuildCost times the builds a profile changes: a full build (-a)
// without and with it, then, with the build cache warm, a rebuild with
// the same profile and one with a new profile (the benchmarks' own, when
// the coverage step wrote one), which recompiles every package.
func measureBuildCost(cfg *config, cov *coverage) (*buildCost, error) {
	c := &buildCost{pkgs: cfg.build}
	// Binaries go to the scratch directory, not the module; go build
	// refuses -o DIR/ when no package is a main one (and writes nothing
	// for those anyway).
	names, err := goCmd(cfg, append([]string{"list", "-f", "{{.Name}}"}, cfg.build...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v", strings.Join(cfg.build, " "), err)
	}
	var output []string
	if strings.Contains("\n"+string(names), "\nmain\n") {
		output = []string{"-o", filepath.Join(cfg.out, "build") + string(filepath.Separator)}
	}
	build := func(args ...string) (timing, error) {
		args = append(append(append([]string{"build"}, output...), args...), cfg.build...)
		cmd := goCmd(cfg, args...)
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return timing{}, fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
		}
		st := cmd.ProcessState
		return timing{time.Since(start), st.UserTime() + st.SystemTime()}, nil
	}
	fmt.Fprintf(os.Stderr, "pgo-compare: timing go build -a %s without and with the profile\n", strings.Join(cfg.build, " "))
	if c.off, err = build("-a", "-pgo=off"); err != nil {
		return nil, err
	}
	if c.pgo, err = build("-a", "-pgo="+cfg.profile); err != nil {
		return nil, err
	}
	if c.unchanged, err = build("-pgo=" + cfg.profile); err != nil {
		return nil, err
	}
	if cov == nil || cov.benchProfile == "" {
		return c, nil
	}
	c.newProfileFrom = cov.benchProfile
	if c.newProfile, err = build("-pgo=" + cov.benchProfile); err != nil {
		return nil, err
	}
	return c, nil
}
