package main

import (
	"strings"
	"testing"
	"time"
)

// A group of one run per program, with the given wall and CPU times in ms.
func testGroup(title string, peer bool, walls, cpus [3]int) *group {
	g := &group{title: title}
	names := []string{"pgofetch", "floor", "peer"}
	for j := range names {
		p := prog{name: names[j], floor: j == 1, peer: j == 2}
		if j == 2 && !peer {
			continue
		}
		g.progs = append(g.progs, p)
		g.res = append(g.res, []sample{{wall: time.Duration(walls[j]) * time.Millisecond, cpu: time.Duration(cpus[j]) * time.Millisecond}})
	}
	return g
}

// The row under a target's, if any, that says what pgofetch's CPU time
// allows: only where the target is missed, with the bound worked out over
// the machine's cores.
func TestCPUBoundRows(t *testing.T) {
	defer func(n int) { numCPU = n }(numCPU)
	numCPU = 2
	cases := []struct {
		title        string
		peer         bool
		walls, cpus  [3]int
		want, wantNo string // a row that must be there, one that must not
	}{
		// 1000 / 200 = 5×, missed; CPU 300 over 2 cores: 1000 / 150 = 6.67×.
		{"end to end, a", true, [3]int{200, 100, 1000}, [3]int{300, 100, 1200},
			"| end to end, a: pgofetch's CPU time spread over all 2 cores without a gap, faster than the datadog-pgo equivalent (the most its CPU time allows) | (≥ 10× for the target to be reachable without less CPU time) | 6.67× | **no** |", ""},
		// CPU 160 over 2 cores: 1000 / 80 = 12.5×, reachable.
		{"end to end, b", true, [3]int{200, 100, 1000}, [3]int{160, 100, 1200},
			"| 12× | yes |", ""},
		// 10× met: no row.
		{"end to end, c", true, [3]int{100, 50, 1000}, [3]int{300, 50, 1200},
			"", "without a gap"},
		// Against pprof: 1000 / 200 = 5×, missed; CPU 300 over 2 cores:
		// 1000 / 150 = 6.67×. And 2×, missed, against the floor: 1.50×.
		{"local files, g", true, [3]int{200, 100, 1000}, [3]int{300, 100, 1200},
			"| local files, g: pgofetch's CPU time spread over all 2 cores without a gap, faster than go tool pprof -proto (the most its CPU time allows) | (≥ 10× for the target to be reachable without less CPU time) | 6.67× | **no** |", ""},
		{"local files, h", true, [3]int{200, 100, 1000}, [3]int{300, 100, 1200},
			"| local files, h: pgofetch's CPU time spread over all 2 cores without a gap, in floor wall times (the least its CPU time allows) | (≤ 1.5× for the target to be reachable without less CPU time) | 1.50× | yes |", ""},
		// 200 / 100 = 2×, missed; CPU 260 over 2 cores: 130 / 100 = 1.30×.
		{"local files, d", false, [3]int{200, 100, 0}, [3]int{260, 100, 0},
			"| local files, d: pgofetch's CPU time spread over all 2 cores without a gap, in floor wall times (the least its CPU time allows) | (≤ 1.5× for the target to be reachable without less CPU time) | 1.30× | yes |", ""},
		// CPU 400: 2.00×, not reachable without less CPU time.
		{"local files, e", false, [3]int{200, 100, 0}, [3]int{400, 100, 0},
			"| 2.00× | **no** |", ""},
		// 1.4× met: no row.
		{"local files, f", false, [3]int{140, 100, 0}, [3]int{400, 100, 0},
			"", "without a gap"},
	}
	for _, c := range cases {
		r := &report{runs: 1, groups: []*group{testGroup(c.title, c.peer, c.walls, c.cpus)}}
		out := r.markdown()
		targets := out[strings.Index(out, "**Targets**"):]
		if c.want != "" && !strings.Contains(targets, c.want) {
			t.Errorf("%s: no %q in\n%s", c.title, c.want, targets)
		}
		if c.wantNo != "" && strings.Contains(targets, c.wantNo) {
			t.Errorf("%s: %q in\n%s", c.title, c.wantNo, targets)
		}
	}
}
