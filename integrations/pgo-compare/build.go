package main

import (
	"bytes"
	"crypto/sha256"
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
func buildPairs(cfg *config) ([]*pkg, error) {
	cmd := goCmd(cfg, append([]string{"list", "-f", "{{.ImportPath}}\t{{.Dir}}"}, cfg.patterns...)...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v", strings.Join(cfg.patterns, " "), err)
	}
	topBench, _, _ := strings.Cut(cfg.bench, "/")
	var pkgs []*pkg
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
		list, err := exec.Command(p.off, "-test.list", topBench).Output()
		if err != nil {
			return nil, fmt.Errorf("%s -test.list: %v", path, err)
		}
		for _, name := range strings.Fields(string(list)) {
			if strings.HasPrefix(name, "Benchmark") {
				p.benches = append(p.benches, name)
			}
		}
		if len(p.benches) == 0 {
			continue
		}
		if err := goCmd(cfg, "test", "-c", "-pgo="+cfg.profile, "-o", p.pgo, path).Run(); err != nil {
			return nil, fmt.Errorf("go test -c -pgo=%s %s: %v", cfg.profile, path, err)
		}
		// go version -m shows no -pgo= for test binaries: the hash is
		// the check that the profile reached the compiler at all.
		same, err := sameFile(p.off, p.pgo)
		if err != nil {
			return nil, err
		}
		if same {
			fmt.Fprintf(os.Stderr, "pgo-compare: %s: the test binaries with and without the profile are identical: PGO changed nothing here (is the profile of this code?)\n", path)
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func sameFile(a, b string) (bool, error) {
	ha, err := hashFile(a)
	if err != nil {
		return false, err
	}
	hb, err := hashFile(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ha, hb), nil
}

func hashFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
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
	outDir := filepath.Join(cfg.out, "build") + string(filepath.Separator)
	build := func(args ...string) (timing, error) {
		args = append(append([]string{"build", "-o", outDir}, args...), cfg.build...)
		cmd := goCmd(cfg, args...)
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return timing{}, fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
		}
		st := cmd.ProcessState
		return timing{time.Since(start), st.UserTime() + st.SystemTime()}, nil
	}
	fmt.Fprintf(os.Stderr, "pgo-compare: timing go build -a %s without and with the profile\n", strings.Join(cfg.build, " "))
	var err error
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
