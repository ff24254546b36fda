package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Options select what a generated set may contain beyond the ordinary
// variety (which every set has: inline frames, several mappings, labels,
// all-zero and duplicate samples, unusual field order, packed and unpacked
// fields, explicit zeros, gzip, zstd and raw).
type Options struct {
	MaxProfiles  int  // 1..MaxProfiles profiles per set (0: 5)
	Exotic       bool // padded varints, unknown fields, odd bools, duplicate strings, multi-member gzip, multi-frame zstd
	Negative     bool // negative values, which can cancel out in a merge
	WeirdStrings bool // NUL bytes, invalid UTF-8, long and empty names
	SparseIDs    bool // ids anywhere in 1..2^64-1
	Big          bool // thousands of samples
}

// File is one generated profile file.
type File struct {
	Profile *Profile
	Style   Style
	Raw     []byte // the protobuf
	Data    []byte // Raw, compressed as Style says
}

// Set is a group of mutually compatible profiles (same sample types and
// period type) sharing functions, mappings and stacks, so that merging them
// really de-duplicates.
type Set struct {
	Seed    uint64
	Options Options
	Files   []File
}

// The functions Datadog's no-inline rename applies to.
const (
	GrpcProcessData = "google.golang.org/grpc/internal/transport.(*loopyWriter).processData"
	Gopark          = "runtime.gopark"
)

type binTmpl struct {
	file, buildID      string
	base, size, offset uint64
	flags              [4]bool
}

type lineTmpl struct {
	fn        int
	line, col int64
}

type locTmpl struct {
	bin    int // -1: no mapping
	off    uint64
	lines  []lineTmpl
	folded bool
}

type world struct {
	r           *rand.Rand
	o           Options
	sampleTypes []ValueType
	periodType  *ValueType
	period      int64
	funcs       []Function
	bins        []binTmpl
	locs        []locTmpl
	stacks      [][]int
	comments    []string
	strLabels   []Label
	numLabels   []Label
	time0       int64
}

// NewSet generates the set of the given seed.
func NewSet(seed uint64, o Options) *Set {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	w := &world{r: r, o: o}
	w.build()
	maxp := o.MaxProfiles
	if maxp <= 0 {
		maxp = 5
	}
	n := 1 + r.IntN(maxp)
	s := &Set{Seed: seed, Options: o}
	for i := 0; i < n; i++ {
		p := w.profile(i)
		st := w.style()
		raw := Encode(p, &st, r)
		s.Files = append(s.Files, File{Profile: p, Style: st, Raw: raw, Data: Compress(raw, &st, r)})
	}
	return s
}

func (w *world) chance(p float64) bool { return w.r.Float64() < p }

func (w *world) pick(xs []string) string { return xs[w.r.IntN(len(xs))] }

var pkgs = []string{"main", "runtime", "encoding/json", "github.com/acme/svc/internal/store",
	"net/http", "google.golang.org/grpc", "sync", "crypto/sha256", "compress/flate"}

var weird = []string{"a\x00b", "\xff\xfe\x80", "π·∑ unicode", "", "with space", "tab\there",
	"\"quoted\"", "back\\slash", "new\nline"}

func (w *world) name(i int) string {
	if w.o.WeirdStrings && w.chance(0.2) {
		s := w.pick(weird)
		if w.chance(0.1) {
			s = strings.Repeat("long.", 300)
		}
		return fmt.Sprintf("%s%d", s, i)
	}
	pkg := w.pick(pkgs)
	switch w.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%s.(*T%d).Method%d", pkg, w.r.IntN(5), i)
	case 1:
		return fmt.Sprintf("%s.func%d.%d", pkg, i, 1+w.r.IntN(3))
	default:
		return fmt.Sprintf("%s.fn%d", pkg, i)
	}
}

func (w *world) build() {
	r := w.r
	switch r.IntN(5) {
	case 0, 1: // what runtime/pprof writes
		w.sampleTypes = []ValueType{{"samples", "count"}, {"cpu", "nanoseconds"}}
		w.periodType = &ValueType{"cpu", "nanoseconds"}
	case 2:
		w.sampleTypes = []ValueType{{"cpu", "nanoseconds"}}
		w.periodType = &ValueType{"cpu", "nanoseconds"}
	case 3:
		w.sampleTypes = []ValueType{{"samples", "count"}, {"cpu", "nanoseconds"}, {"wall", "nanoseconds"}}
		w.periodType = &ValueType{"wall", "nanoseconds"}
	case 4:
		w.sampleTypes = []ValueType{{"samples", "count"}}
		if r.IntN(2) == 0 {
			w.periodType = nil // absent
		} else {
			w.periodType = &ValueType{"", ""} // present but empty
		}
	}
	w.period = []int64{10000000, 1000000, 0, 1 + r.Int64N(1e9)}[r.IntN(4)]
	w.time0 = 1700000000000000000 + r.Int64N(1e17)

	nf, nb, nl, ns := 4+r.IntN(30), 1+r.IntN(4), 6+r.IntN(40), 3+r.IntN(30)
	if w.o.Big {
		nf, nb, nl, ns = 300+r.IntN(300), 3+r.IntN(5), 1000+r.IntN(1000), 1000+r.IntN(2000)
	}
	files := []string{"main.go", "/src/runtime/proc.go", "/go/pkg/mod/x/y.go", "", "store.go"}
	for i := 0; i < nf; i++ {
		f := Function{Name: w.name(i), Filename: w.pick(files), StartLine: int64(r.IntN(900))}
		switch r.IntN(6) {
		case 0:
			f.SystemName = ""
		case 1:
			f.SystemName = f.Name + ".abi0"
		default:
			f.SystemName = f.Name
		}
		if r.IntN(10) == 0 {
			f.StartLine = 0
		}
		w.funcs = append(w.funcs, f)
	}
	// The no-inline rename's functions, sometimes; and functions that differ
	// from another only in start line, file or system name.
	if w.chance(0.4) {
		w.funcs = append(w.funcs, Function{Name: GrpcProcessData, SystemName: GrpcProcessData,
			Filename: "/go/pkg/mod/google.golang.org/grpc/internal/transport/controlbuf.go", StartLine: 954})
	}
	if w.chance(0.4) {
		w.funcs = append(w.funcs, Function{Name: Gopark, SystemName: Gopark, Filename: "/src/runtime/proc.go", StartLine: 381})
	}
	for i, n := 0, r.IntN(3); i < n; i++ {
		f := w.funcs[r.IntN(len(w.funcs))]
		switch r.IntN(3) {
		case 0:
			f.StartLine++
		case 1:
			f.Filename += ".other"
		case 2:
			f.SystemName += "·"
		}
		w.funcs = append(w.funcs, f)
	}

	binFiles := []string{"/usr/local/bin/svc", "/lib/x86_64-linux-gnu/libc.so.6", "[vdso]", "", "/app/server (deleted)"}
	for i := 0; i < nb; i++ {
		b := binTmpl{
			file:   binFiles[r.IntN(len(binFiles))],
			base:   uint64(0x400000) + uint64(i)<<32 + uint64(r.IntN(1<<10))<<12,
			size:   uint64(1+r.IntN(1<<12)) << 12,
			offset: []uint64{0, 0x1000, uint64(r.IntN(1<<20)) << 4}[r.IntN(3)],
		}
		if r.IntN(3) != 0 {
			b.buildID = fmt.Sprintf("%016x%08x", r.Uint64(), r.Uint32())
		}
		if r.IntN(4) == 0 {
			b.size -= uint64(r.IntN(0x1000)) // not page aligned: pprof rounds up
		}
		for j := range b.flags {
			b.flags[j] = r.IntN(3) != 0
		}
		w.bins = append(w.bins, b)
	}

	for i := 0; i < nl; i++ {
		l := locTmpl{bin: r.IntN(len(w.bins)+1) - 1}
		if l.bin >= 0 {
			l.off = uint64(r.Int64N(int64(w.bins[l.bin].size)))
		} else {
			l.off = r.Uint64() >> r.IntN(64)
		}
		// Mostly one line; inline frames (several lines) often; none rarely.
		nlines := 1
		switch k := r.IntN(10); {
		case k < 3:
			nlines = 2 + r.IntN(4)
		case k == 3 && r.IntN(3) == 0:
			nlines = 0
		}
		for j := 0; j < nlines; j++ {
			ln := lineTmpl{fn: r.IntN(len(w.funcs)), line: int64(r.IntN(2000))}
			if r.IntN(5) == 0 {
				ln.col = int64(r.IntN(80))
			}
			l.lines = append(l.lines, ln)
		}
		l.folded = r.IntN(20) == 0
		w.locs = append(w.locs, l)
	}
	// Locations equal to another one: different entries in one profile
	// that the merge folds together.
	for i, n := 0, r.IntN(3); i < n; i++ {
		w.locs = append(w.locs, w.locs[r.IntN(len(w.locs))])
	}

	for i := 0; i < ns; i++ {
		depth := r.IntN(13)
		if r.IntN(20) == 0 {
			depth = 0
		}
		st := make([]int, depth)
		for j := range st {
			st[j] = r.IntN(len(w.locs))
		}
		// leaf on a no-inline function now and then
		if depth > 0 && r.IntN(6) == 0 {
			for li, l := range w.locs {
				if len(l.lines) > 0 {
					n := w.funcs[l.lines[0].fn].Name
					if n == GrpcProcessData || n == Gopark {
						st[0] = li
						break
					}
				}
			}
		}
		w.stacks = append(w.stacks, st)
	}

	for i, n := 0, r.IntN(6); i < n; i++ {
		w.comments = append(w.comments, fmt.Sprintf("comment %d: %s", i, w.name(i)))
	}
	keys := []string{"span id", "trace endpoint", "goroutine", "pprof.label", "bytes", ""}
	if w.o.WeirdStrings {
		keys = append(keys, weird...)
	}
	for i := 0; i < 6; i++ {
		w.strLabels = append(w.strLabels, Label{Key: w.pick(keys), Str: fmt.Sprintf("v%d", r.IntN(4))})
	}
	units := []string{"", "", "bytes", "count", "nanoseconds"}
	for i := 0; i < 6; i++ {
		w.numLabels = append(w.numLabels, Label{Key: w.pick(keys), Num: r.Int64N(5) - 1, NumUnit: w.pick(units)})
	}
	if w.o.Exotic {
		// a key alone (pprof drops it) and a label with both a string and
		// a number (pprof keeps the string)
		w.strLabels = append(w.strLabels, Label{Key: "lonely"}, Label{Key: "both", Str: "s", Num: 7, NumUnit: "bytes"})
	}
}

// ids returns n distinct non-zero ids: 1..n shuffled, or spread out.
func (w *world) ids(n int) []uint64 {
	out := make([]uint64, n)
	switch k := w.r.IntN(4); {
	case k == 0 && !w.o.SparseIDs:
		for i := range out {
			out[i] = uint64(i + 1)
		}
		return out
	case k == 1 && !w.o.SparseIDs:
		for i := range out {
			out[i] = uint64(i + 1)
		}
	default:
		seen := map[uint64]bool{}
		for i := range out {
			for {
				var id uint64
				switch {
				case w.o.SparseIDs && w.r.IntN(2) == 0:
					id = w.r.Uint64() >> w.r.IntN(64)
				case w.o.SparseIDs:
					id = ^uint64(0) - uint64(w.r.IntN(1000))
				default:
					id = uint64(1 + w.r.IntN(3*n+5))
				}
				if id != 0 && !seen[id] {
					seen[id] = true
					out[i] = id
					break
				}
			}
		}
	}
	w.r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// profile makes the i-th profile of the set.
func (w *world) profile(i int) *Profile {
	r := w.r
	p := &Profile{
		SampleType: w.sampleTypes,
		PeriodType: w.periodType,
		Period:     w.period,
		TimeNanos:  w.time0 + int64(i)*60e9 + r.Int64N(1e9),
	}
	if r.IntN(8) == 0 {
		p.TimeNanos = 0
	}
	if r.IntN(8) == 0 {
		p.Period += int64(r.IntN(1000)) // merge keeps the largest
	}
	p.DurationNanos = []int64{0, 1e9, 10e9, 60e9, 1 + r.Int64N(1e11)}[r.IntN(5)]
	if r.IntN(4) == 0 {
		p.DefaultSampleType = w.sampleTypes[r.IntN(len(w.sampleTypes))].Type
	}
	if r.IntN(5) == 0 {
		p.DocURL = "https://go.dev/doc/pgo#" + fmt.Sprint(r.IntN(3))
	}
	if r.IntN(8) == 0 {
		p.DropFrames = "runtime\\..*"
	}
	if r.IntN(8) == 0 {
		p.KeepFrames = "main\\..*"
	}
	for _, c := range w.comments {
		if r.IntN(2) == 0 {
			p.Comments = append(p.Comments, c)
		}
	}
	r.Shuffle(len(p.Comments), func(i, j int) { p.Comments[i], p.Comments[j] = p.Comments[j], p.Comments[i] })

	// Samples first: they decide which locations are needed.
	nsamples := r.IntN(60)
	if w.o.Big {
		nsamples = 3000 + r.IntN(5000)
	}
	if r.IntN(15) == 0 {
		nsamples = 0
	}
	type draft struct {
		stack  []int
		value  []int64
		labels []Label
	}
	var drafts []draft
	usedLoc := map[int]bool{}
	for j := 0; j < nsamples; j++ {
		// a few hot stacks, a long tail
		var st []int
		if r.IntN(3) == 0 {
			st = w.stacks[r.IntN(min(3, len(w.stacks)))]
		} else {
			st = w.stacks[r.IntN(len(w.stacks))]
		}
		d := draft{stack: st, value: w.values()}
		if r.IntN(3) == 0 {
			for k, n := 0, 1+r.IntN(3); k < n; k++ {
				if r.IntN(2) == 0 {
					d.labels = append(d.labels, w.strLabels[r.IntN(len(w.strLabels))])
				} else {
					d.labels = append(d.labels, w.numLabels[r.IntN(len(w.numLabels))])
				}
			}
		}
		for _, l := range st {
			usedLoc[l] = true
		}
		drafts = append(drafts, d)
	}
	// Unused locations now and then: written, but not referenced.
	for k, n := 0, r.IntN(3); k < n; k++ {
		usedLoc[r.IntN(len(w.locs))] = true
	}

	// Mappings: most binaries, each at this profile's own address (ASLR).
	mapID := map[int]uint64{}
	mapStart := map[int]uint64{}
	var bins []int
	for b := range w.bins {
		if b == 0 || r.IntN(6) != 0 {
			bins = append(bins, b)
		}
	}
	if len(bins) > 1 && r.IntN(3) == 0 {
		r.Shuffle(len(bins), func(i, j int) { bins[i], bins[j] = bins[j], bins[i] })
	}
	mids := w.ids(len(bins))
	for k, b := range bins {
		t := w.bins[b]
		start := t.base
		if r.IntN(2) == 0 {
			start += uint64(r.IntN(1<<16)) << 12
		}
		limit := start + t.size
		if r.IntN(5) == 0 {
			limit += uint64(r.IntN(0x1000)) // rounds to the same 4K size, or not
		}
		mapID[b], mapStart[b] = mids[k], start
		p.Mapping = append(p.Mapping, Mapping{
			ID: mids[k], Start: start, Limit: limit, Offset: t.offset, File: t.file, BuildID: t.buildID,
			HasFunctions: t.flags[0], HasFilenames: t.flags[1], HasLineNumbers: t.flags[2], HasInlineFrames: t.flags[3],
		})
	}

	// Locations, in a random order, some of them twice under two ids.
	var locs []int
	for l := 0; l < len(w.locs); l++ {
		if usedLoc[l] {
			locs = append(locs, l)
		}
	}
	r.Shuffle(len(locs), func(i, j int) { locs[i], locs[j] = locs[j], locs[i] })
	var twice []int
	for _, l := range locs {
		if r.IntN(15) == 0 {
			twice = append(twice, l)
		}
	}
	locs = append(locs, twice...)
	lids := w.ids(len(locs))
	locIDs := map[int][]uint64{}
	usedFn := map[int]bool{}
	for k, l := range locs {
		t := w.locs[l]
		loc := Location{ID: lids[k], IsFolded: t.folded}
		if id, ok := mapID[t.bin]; ok && t.bin >= 0 {
			loc.MappingID = id
			loc.Address = mapStart[t.bin] + t.off
		} else if t.bin >= 0 {
			loc.Address = w.bins[t.bin].base + t.off
		} else {
			loc.Address = t.off
		}
		if w.o.Exotic && r.IntN(20) == 0 {
			// a mapping id no mapping has: pprof reads it as "no mapping"
			loc.MappingID = 1
			for _, id := range mids {
				loc.MappingID = max(loc.MappingID, id+1)
			}
		}
		for _, ln := range t.lines {
			usedFn[ln.fn] = true
		}
		locIDs[l] = append(locIDs[l], loc.ID)
		p.Location = append(p.Location, loc)
	}
	for k, n := 0, r.IntN(3); k < n; k++ {
		usedFn[r.IntN(len(w.funcs))] = true
	}

	// Functions, in a random order, some of them twice.
	var fns []int
	for f := 0; f < len(w.funcs); f++ {
		if usedFn[f] {
			fns = append(fns, f)
		}
	}
	r.Shuffle(len(fns), func(i, j int) { fns[i], fns[j] = fns[j], fns[i] })
	for _, f := range fns {
		if r.IntN(20) == 0 {
			fns = append(fns, f)
		}
	}
	fids := w.ids(len(fns))
	fnIDs := map[int][]uint64{}
	for k, f := range fns {
		fn := w.funcs[f]
		fn.ID = fids[k]
		fnIDs[f] = append(fnIDs[f], fn.ID)
		p.Function = append(p.Function, fn)
	}
	for k := range p.Location {
		t := w.locs[locs[k]]
		for _, ln := range t.lines {
			ids := fnIDs[ln.fn]
			p.Location[k].Line = append(p.Location[k].Line, Line{FunctionID: ids[r.IntN(len(ids))], Line: ln.line, Column: ln.col})
		}
	}

	for _, d := range drafts {
		s := Sample{Value: d.value, Label: d.labels}
		for _, l := range d.stack {
			ids := locIDs[l]
			s.LocationID = append(s.LocationID, ids[r.IntN(len(ids))])
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

func (w *world) values() []int64 {
	r := w.r
	v := make([]int64, len(w.sampleTypes))
	n := int64(1 + r.IntN(5))
	if r.IntN(10) == 0 {
		n = r.Int64N(1 << 20)
	}
	for i, st := range w.sampleTypes {
		switch {
		case st.Type == "samples":
			v[i] = n
		case w.period > 0:
			v[i] = n * w.period
		default:
			v[i] = n * 10000000
		}
	}
	switch k := r.IntN(20); {
	case k == 0: // all zero: dropped by the merge
		for i := range v {
			v[i] = 0
		}
	case k == 1:
		v[r.IntN(len(v))] = 0
	case k < 5 && w.o.Negative:
		for i := range v {
			v[i] = -v[i]
		}
	}
	return v
}

func (w *world) style() Style {
	r := w.r
	st := Style{
		Top:         TopOrder(r.IntN(int(numTopOrders))),
		Sub:         Order(r.IntN(int(numOrders))),
		Packing:     []Packing{PackPprof, PackAlways, PackNever, PackSplit, PackRandom, PackRandom}[r.IntN(6)],
		ShuffleStrs: r.IntN(3) == 0,
		UnusedStrs:  r.IntN(5) == 0,
		Compression: Compression(r.IntN(int(numCompressions))),
		GzipHeader:  r.IntN(4) == 0,
	}
	if r.IntN(3) == 0 {
		st.ExplicitZeros = 0.4
	}
	if w.o.Exotic {
		st.PadVarints = 0.1
		st.UnknownFields = 0.3
		st.OddBools = true
		st.DupStrs = r.IntN(2) == 0
		st.GzipMembers = 1 + r.IntN(3)
		st.ZstdFrames = 1 + r.IntN(3)
	}
	return st
}

// Case is one generated set of the test plan.
type Case struct {
	Name    string
	Seed    uint64
	Options Options
}

// Cases is the plan the tests share: ordinary sets, then sets with each
// kind of oddity on its own, so a failure points at what it is about.
func Cases() []Case {
	var cs []Case
	add := func(kind string, from, n int, o Options) {
		for i := 0; i < n; i++ {
			seed := uint64(from + i)
			cs = append(cs, Case{Name: fmt.Sprintf("%s/seed=%d", kind, seed), Seed: seed, Options: o})
		}
	}
	add("ordinary", 1, 200, Options{})
	add("single", 500, 20, Options{MaxProfiles: 1})
	add("exotic", 1000, 30, Options{Exotic: true})
	add("negative", 2000, 20, Options{Negative: true})
	add("weird-strings", 3000, 15, Options{WeirdStrings: true})
	add("sparse-ids", 4000, 15, Options{SparseIDs: true})
	add("big", 5000, 3, Options{Big: true, MaxProfiles: 3})
	add("many", 6000, 8, Options{MaxProfiles: 12})
	return cs
}
