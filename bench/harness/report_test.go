package main

import (
	"strings"
	"testing"
	"time"
)

// A group of one run per program: pgofetch, the earlier pgofetch, the
// peer, with the given wall times (ms) and peak RSS (MiB).
func testGroup(title string, walls, rss [3]int) *group {
	g := &group{title: title}
	progs := []prog{{name: "pgofetch", trim: "on"}, {name: "pgofetch before", before: true, trim: "on"}, {name: "peer", peer: true}}
	for j, p := range progs {
		g.progs = append(g.progs, p)
		g.res = append(g.res, []sample{{wall: time.Duration(walls[j]) * time.Millisecond, rssKiB: int64(rss[j]) << 10}})
	}
	return g
}

// The floors table: end to end 3× the peer's speed and at most half its
// memory, a local merge 4× pprof's speed; before and after, each held or
// not; one-input and legacy groups have no floor.
func TestFloors(t *testing.T) {
	r := &report{runs: 1, trim: false, before: true, groups: []*group{
		testGroup("end to end, a", [3]int{300, 200, 1000}, [3]int{100, 60, 400}),
		testGroup("local files, b", [3]int{200, 100, 1000}, [3]int{10, 10, 100}),
		testGroup("local file, c (one input)", [3]int{200, 100, 1000}, [3]int{10, 10, 100}),
	}}
	// the groups' pgofetch rows have trim "on": measure them as such
	r.trim = true
	for _, g := range r.groups {
		g.progs = append(g.progs, prog{name: "pgofetch", trim: "off"})
		g.res = append(g.res, g.res[0])
	}
	out := r.results()
	for _, want := range []string{
		"| end to end, a -trim=on: faster than the datadog-pgo equivalent (wall) | ≥ 3× | 5.00× | 3.33× | yes |",
		"| end to end, a -trim=on: peak RSS of the datadog-pgo equivalent's | ≤ 0.5× | 0.15× | 0.25× | yes |",
		"| end to end, a -trim=off: faster than the datadog-pgo equivalent (wall) | ≥ 3× | — | 3.33× | yes |",
		"| local files, b -trim=on: faster than go tool pprof -proto (wall) | ≥ 4× | 10× | 5.00× | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "c (one input)") {
		t.Errorf("a one-input group has a floor:\n%s", out)
	}
	r.groups[1].res[0][0].wall = 300 * time.Millisecond // 3.33×: under 4×
	if out := r.results(); !strings.Contains(out, "| local files, b -trim=on: faster than go tool pprof -proto (wall) | ≥ 4× | 10× | 3.33× | **no** |") {
		t.Errorf("a missed floor is not said:\n%s", out)
	}
}
