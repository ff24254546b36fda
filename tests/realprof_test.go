package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// workload is a small Go program that profiles itself with runtime/pprof
// while running hot code full of small functions the compiler inlines, in
// a few goroutines.
const workload = `package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"
)

type point struct {
	X, Y int
	Name string
	Tags []string
}

func add(a, b int) int             { return a + b }
func mix(h uint64, v int) uint64   { return (h ^ uint64(v)) * 1099511628211 }
func less(a, b point) bool         { return a.X < b.X || (a.X == b.X && a.Y < b.Y) }
func abs(x int) int                { if x < 0 { return -x }; return x }
func dist(a, b point) int          { return abs(a.X-b.X) + abs(a.Y-b.Y) }

func hashLoop(n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < n; i++ {
		h = mix(h, add(i, int(h&7)))
	}
	return h
}

func points(n int, seed uint64) []point {
	ps := make([]point, n)
	for i := range ps {
		seed = mix(seed, i)
		ps[i] = point{X: int(seed % 1000), Y: int(seed / 1000 % 1000), Name: "p", Tags: []string{"a", "b"}}
	}
	return ps
}

func sortWork(seed uint64) int {
	ps := points(2000, seed)
	sort.Slice(ps, func(i, j int) bool { return less(ps[i], ps[j]) })
	total := 0
	for i := 1; i < len(ps); i++ {
		total = add(total, dist(ps[i-1], ps[i]))
	}
	return total
}

func jsonWork(seed uint64) int {
	data, _ := json.Marshal(points(200, seed))
	var back []point
	json.Unmarshal(data, &back)
	return len(back)
}

func shaWork(seed uint64) int {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("pgofetch")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return int(sum[seed%32])
}

var sink int

func main() {
	out := flag.String("o", "cpu.pprof", "profile output")
	d := flag.Duration("d", 1500*time.Millisecond, "duration")
	work := flag.String("w", "hash,sort", "workloads")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	deadline := time.Now().Add(*d)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, w := range strings.Split(*work, ",") {
		wg.Add(1)
		go func(w string) {
			defer wg.Done()
			local := 0
			for seed := uint64(1); time.Now().Before(deadline); seed++ {
				switch w {
				case "hash":
					local += int(hashLoop(20000) & 1)
				case "sort":
					local += sortWork(seed)
				case "json":
					local += jsonWork(seed)
				case "sha":
					local += shaWork(seed)
				}
			}
			mu.Lock()
			sink += local
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	pprof.StopCPUProfile()
	f.Close()
}
`

var (
	realOnce  sync.Once
	realFiles []string
	realErr   error
)

// realProfiles returns CPU profiles of real Go programs (made once per
// run): two runs of one workload and one of another, so that pairs share
// functions and stacks, then the production profile tracked in
// core/tests/data/pprof.
func realProfiles(t testing.TB) []string {
	t.Helper()
	realOnce.Do(func() {
		dir := filepath.Join(scratch, "real")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			realErr = err
			return
		}
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module workload\n\ngo 1.21\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "main.go"), []byte(workload), 0o644)
		build := exec.Command("go", "build", "-o", "workload", ".")
		build.Dir = dir
		build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if out, err := build.CombinedOutput(); err != nil {
			realErr = fmt.Errorf("building the workload: %v\n%s", err, out)
			return
		}
		runs := [][]string{{"-w", "hash,sort"}, {"-w", "json,sha,sort"}, {"-w", "hash,sort"}}
		errs := make([]error, len(runs))
		var wg sync.WaitGroup
		for i, args := range runs {
			out := filepath.Join(dir, fmt.Sprintf("real%d.pprof", i+1))
			realFiles = append(realFiles, out)
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(filepath.Join(dir, "workload"), append(args, "-o", out)...)
				if b, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("running the workload %v: %v\n%s", args, err, b)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				realErr = err
				return
			}
		}
	})
	if realErr != nil {
		t.Fatal(realErr)
	}
	return append(append([]string(nil), realFiles...), testenv.RealProfile(t))
}
