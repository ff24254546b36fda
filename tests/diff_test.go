package tests

// pgofetch diff on generated profiles whose call edges are known: what
// entered, left and moved, and the matched share, are computed here from
// the edges, as Go's inliner picks its hot call sites (hotNodesFromCDF),
// and compared with what diff reports.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// edge is one call edge of a generated profile: every sample is the stack
// callee <- caller, so that the edge's weight in the compiler's view is
// exactly w.
type edge struct {
	caller, callee string
	w              int64
}

// edgeProfile is a CPU profile (samples/count, cpu/nanoseconds, 10 ms
// period) holding exactly edges, gzip-compressed.
func edgeProfile(t testing.TB, edges []edge, taken time.Time) []byte {
	t.Helper()
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		TimeNanos:     taken.UnixNano(),
		DurationNanos: int64(10 * time.Second),
	}
	fns := map[string]*profile.Function{}
	loc := func(name string, line int64) *profile.Location {
		f := fns[name]
		if f == nil {
			f = &profile.Function{ID: uint64(len(fns) + 1), Name: name, SystemName: name, Filename: "main.go", StartLine: 10}
			fns[name] = f
			p.Function = append(p.Function, f)
		}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: f, Line: line}}}
		p.Location = append(p.Location, l)
		return l
	}
	for _, e := range edges {
		p.Sample = append(p.Sample, &profile.Sample{
			Location: []*profile.Location{loc(e.callee, 20), loc(e.caller, 12)},
			Value:    []int64{e.w, e.w * p.Period},
		})
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hotEdges is Go's hotNodesFromCDF: the heaviest edges (ties by name)
// whose cumulative weight first exceeds 99% of the total, that one included.
func hotEdges(edges []edge) map[edge]bool {
	sorted := slices.Clone(edges)
	slices.SortFunc(sorted, func(a, b edge) int {
		if a.w != b.w {
			return int(b.w - a.w)
		}
		return strings.Compare(a.caller+"\x00"+a.callee, b.caller+"\x00"+b.callee)
	})
	var total, cum int64
	for _, e := range edges {
		total += e.w
	}
	hot := map[edge]bool{}
	for _, e := range sorted {
		hot[e] = true
		cum += e.w
		if float64(cum)/float64(total)*100 > 99 {
			break
		}
	}
	return hot
}

// view is what diff compares of one side: shares of hot functions (the
// callees of hot edges, weighted by all edges into them) and hot edges.
type view struct {
	fn, edge map[string]float64
	hotW     map[edge]bool
	names    map[string]bool
}

func viewOf(edges []edge) view {
	v := view{fn: map[string]float64{}, edge: map[string]float64{}, hotW: hotEdges(edges), names: map[string]bool{}}
	var total float64
	into := map[string]float64{}
	for _, e := range edges {
		total += float64(e.w)
		into[e.callee] += float64(e.w)
		v.names[e.caller], v.names[e.callee] = true, true
	}
	for e := range v.hotW {
		v.fn[e.callee] = into[e.callee] / total
		v.edge[e.caller+" -> "+e.callee] = float64(e.w) / total
	}
	return v
}

type diffItem struct {
	Function, Caller, Callee string
	OldShare                 float64 `json:"old_share"`
	NewShare                 float64 `json:"new_share"`
}

func (d diffItem) key() string {
	if d.Function != "" {
		return d.Function
	}
	return d.Caller + " -> " + d.Callee
}

type diffReport struct {
	Old, New struct {
		Samples    int64
		CPUNs      int64 `json:"cpu_ns"`
		DurationNs int64 `json:"duration_ns"`
		Time       *string
	}
	Entered, Left, Moved []diffItem
	Matched              *float64
}

// wantLists computes entered, left and moved (keys with old, new share).
func wantLists(old, new view) (entered, left, moved map[string][2]float64) {
	entered, left, moved = map[string][2]float64{}, map[string][2]float64{}, map[string][2]float64{}
	share := func(v view, k string) float64 { return v.fn[k] + v.edge[k] }
	all := map[string]bool{}
	for _, v := range []view{old, new} {
		for k := range v.fn {
			all[k] = true
		}
		for k := range v.edge {
			all[k] = true
		}
	}
	for k := range all {
		_, inOld := old.fn[k]
		_, inOldE := old.edge[k]
		_, inNew := new.fn[k]
		_, inNewE := new.edge[k]
		o, n := share(old, k), share(new, k)
		switch {
		case (inNew || inNewE) && !(inOld || inOldE):
			entered[k] = [2]float64{0, n}
		case (inOld || inOldE) && !(inNew || inNewE):
			left[k] = [2]float64{o, 0}
		case o != n:
			moved[k] = [2]float64{o, n}
		}
	}
	return
}

func TestDiffKnownChange(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	oldEdges := []edge{
		{"main.main", "main.a", 400}, {"main.main", "main.b", 300}, {"main.a", "main.c", 200},
		{"main.b", "main.gone", 95}, {"main.main", "main.cold", 5},
	}
	newEdges := []edge{
		{"main.main", "main.hot", 340}, {"main.main", "main.b", 300}, {"main.main", "main.a", 250},
		{"main.a", "main.c", 105}, {"main.main", "main.cold", 5},
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	oldFile := writeFile(t, filepath.Join(dir, "old.pprof"), edgeProfile(t, oldEdges, t0))
	newFile := writeFile(t, filepath.Join(dir, "new.pprof"), edgeProfile(t, newEdges, t0.Add(time.Hour)))

	r := pgofetch(t, "diff", "-json", oldFile, newFile)
	if r.code != 0 {
		t.Fatal(r)
	}
	var got diffReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 {
		t.Fatalf("diff -json printed no single JSON object: %v\n%s", err, r)
	}
	ov, nv := viewOf(oldEdges), viewOf(newEdges)
	entered, left, moved := wantLists(ov, nv)
	for name, c := range map[string]struct {
		got  []diffItem
		want map[string][2]float64
	}{"entered": {got.Entered, entered}, "left": {got.Left, left}, "moved": {got.Moved, moved}} {
		gotMap := map[string][2]float64{}
		for _, it := range c.got {
			gotMap[it.key()] = [2]float64{it.OldShare, it.NewShare}
		}
		if len(gotMap) != len(c.want) {
			t.Errorf("%s: got %v, want %v", name, gotMap, c.want)
		}
		for k, w := range c.want {
			g, ok := gotMap[k]
			if !ok || math.Abs(g[0]-w[0]) > 1e-9 || math.Abs(g[1]-w[1]) > 1e-9 {
				t.Errorf("%s %s: got %v (listed %v), want %v", name, k, g, ok, w)
			}
		}
	}
	// The function made hot is the first entered; the one removed left.
	if len(got.Entered) == 0 || got.Entered[0].Function != "main.hot" {
		t.Errorf("entered does not start with main.hot: %+v", got.Entered)
	}
	var hotOld, matched float64
	for e := range ov.hotW {
		hotOld += float64(e.w)
		if nv.names[e.caller] && nv.names[e.callee] {
			matched += float64(e.w)
		}
	}
	if got.Matched == nil || math.Abs(*got.Matched-matched/hotOld) > 1e-9 {
		t.Errorf("matched = %v, want %v", got.Matched, matched/hotOld)
	}
	if got.Old.Samples != 5 || got.Old.CPUNs != 1000*10_000_000 || got.New.DurationNs != int64(10*time.Second) ||
		got.Old.Time == nil || *got.Old.Time != "2026-03-01T12:00:00Z" || got.New.Time == nil || *got.New.Time != "2026-03-01T13:00:00Z" {
		t.Errorf("totals: %+v %+v", got.Old, got.New)
	}

	// The markdown names the same things under its headings.
	md := pgofetch(t, "diff", oldFile, newFile)
	entSec, _, _ := strings.Cut(md.stdout[strings.Index(md.stdout, "### Entered"):], "### Left")
	if md.code != 0 || !strings.Contains(entSec, "`main.hot`") || !strings.Contains(md.stdout, "`main.b` → `main.gone`") ||
		!strings.Contains(md.stdout, "**matched**: 90.5%") {
		t.Errorf("markdown report:\n%s", md)
	}
	// Its first line sums up the function lists, computed here from the
	// test's own view of the two profiles.
	if want := headline(entered, left, moved); !strings.HasPrefix(md.stdout, want) {
		t.Errorf("markdown headline:\n%s\nwant it to start with:\n%s", md.stdout, want)
	}
	// -o writes the same report to a file.
	out := filepath.Join(dir, "report.md")
	if r := pgofetch(t, "diff", "-o", out, oldFile, newFile); r.code != 0 || string(readFile(t, out)) != md.stdout || r.stdout != "" {
		t.Errorf("diff -o: %s\nfile:\n%s", r, readFile(t, out))
	}
}

// A profile against itself: nothing entered, left or moved, all matched.
func TestDiffSameProfile(t *testing.T) {
	requireBinary(t)
	f := writeFile(t, filepath.Join(t.TempDir(), "p.pprof"), edgeProfile(t, []edge{{"main.main", "main.a", 3}}, time.Unix(1e9, 0)))
	r := pgofetch(t, "diff", "-json", f, f)
	var got diffReport
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatal(r)
	}
	if len(got.Entered)+len(got.Left)+len(got.Moved) != 0 || got.Matched == nil || *got.Matched != 1 {
		t.Errorf("diff of a profile with itself: %s", r.stdout)
	}
}

func TestDiffErrors(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "p.pprof"), edgeProfile(t, []edge{{"main.main", "main.a", 3}}, time.Unix(1e9, 0)))
	bad := writeFile(t, filepath.Join(dir, "bad.pprof"), []byte("not a profile"))
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"diff", good}, 2, "want two arguments"},
		{[]string{"diff", "-nope", good, good}, 2, "flag provided but not defined: -nope"},
		{[]string{"diff", "-o"}, 2, "flag needs an argument"},
		{[]string{"diff", filepath.Join(dir, "missing"), good}, 3, "missing"},
		{[]string{"diff", good, bad}, 4, "bad.pprof"},
	} {
		r := pgofetch(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.says) || r.stdout != "" {
			t.Errorf("want exit %d saying %q\n%s", c.code, c.says, r)
		}
	}
	if r := pgofetch(t, "diff", "-h"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage: pgofetch diff") {
		t.Errorf("diff -h:\n%s", r)
	}
}

// headline is the first line diff's markdown should have for these lists:
// how many functions entered and left, their summed share, the heaviest of
// each, and the function whose share moved most.
func headline(entered, left, moved map[string][2]float64) string {
	type fn struct {
		name string
		key  float64
	}
	pick := func(m map[string][2]float64, key func([2]float64) float64) (n int, sum float64, top fn) {
		for k, v := range m {
			if strings.Contains(k, " -> ") {
				continue
			}
			n++
			sum += key(v)
			if f := (fn{k, key(v)}); n == 1 || f.key > top.key || f.key == top.key && f.name < top.name {
				top = f
			}
		}
		return
	}
	ne, se, te := pick(entered, func(v [2]float64) float64 { return v[1] })
	nl, sl, tl := pick(left, func(v [2]float64) float64 { return v[0] })
	nm, _, tm := pick(moved, func(v [2]float64) float64 { return math.Abs(v[1] - v[0]) })
	plural := "s"
	if ne == 1 {
		plural = ""
	}
	s := fmt.Sprintf("**In short**: %d hot function%s entered (%.1f%% of the new weight", ne, plural, 100*se)
	if ne > 0 {
		s += ", most `" + te.name + "`"
	}
	s += fmt.Sprintf("), %d left (%.1f%% of the old", nl, 100*sl)
	if nl > 0 {
		s += ", most `" + tl.name + "`"
	}
	s += ")"
	if nm > 0 {
		v := moved[tm.name]
		s += fmt.Sprintf("; moved most: `%s` %.1f%% → %.1f%%", tm.name, 100*v[0], 100*v[1])
	}
	return s + ".\n"
}
