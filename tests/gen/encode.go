package gen

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"

	"github.com/klauspost/compress/zstd"
)

// Profile field numbers (google/pprof proto/profile.proto).
const (
	fSampleType        = 1
	fSample            = 2
	fMapping           = 3
	fLocation          = 4
	fFunction          = 5
	fStringTable       = 6
	fDropFrames        = 7
	fKeepFrames        = 8
	fTimeNanos         = 9
	fDurationNanos     = 10
	fPeriodType        = 11
	fPeriod            = 12
	fComment           = 13
	fDefaultSampleType = 14
	fDocURL            = 15
)

// strtab is the string table being written.
type strtab struct {
	strs []string
	idx  map[string][]int
	r    *rand.Rand
}

func (t *strtab) ref(s string) uint64 {
	if s == "" {
		// Always index 0: a reference to another "" would be "present"
		// (a string label with an empty value, say), not "absent".
		return 0
	}
	ix := t.idx[s]
	if len(ix) == 0 {
		panic(fmt.Sprintf("gen: string %q missing from the table", s))
	}
	return uint64(ix[t.r.IntN(len(ix))])
}

// strings lists every string p refers to, in first-use order (the order
// pprof's encoder assigns indices in, roughly).
func (p *Profile) strings() []string {
	seen := map[string]bool{"": true}
	out := []string{""}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, st := range p.SampleType {
		add(st.Type)
		add(st.Unit)
	}
	for _, s := range p.Sample {
		for _, l := range s.Label {
			add(l.Key)
			add(l.Str)
			add(l.NumUnit)
		}
	}
	for _, m := range p.Mapping {
		add(m.File)
		add(m.BuildID)
	}
	for _, f := range p.Function {
		add(f.Name)
		add(f.SystemName)
		add(f.Filename)
	}
	add(p.DropFrames)
	add(p.KeepFrames)
	if p.PeriodType != nil {
		add(p.PeriodType.Type)
		add(p.PeriodType.Unit)
	}
	for _, c := range p.Comments {
		add(c)
	}
	add(p.DefaultSampleType)
	add(p.DocURL)
	return out
}

func (t *strtab) build(p *Profile, st *Style) {
	t.strs = p.strings()
	if st.UnusedStrs {
		for i, n := 0, 1+t.r.IntN(5); i < n; i++ {
			t.strs = append(t.strs, fmt.Sprintf("unused string %d", t.r.IntN(1000)))
		}
	}
	if st.ShuffleStrs {
		rest := t.strs[1:]
		t.r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	}
	if st.DupStrs && len(t.strs) > 1 {
		for i, n := 0, 1+t.r.IntN(len(t.strs)); i < n; i++ {
			s := t.strs[t.r.IntN(len(t.strs))] // "" too: index 0 is not the only empty string
			at := 1 + t.r.IntN(len(t.strs))
			t.strs = append(t.strs[:at], append([]string{s}, t.strs[at:]...)...)
		}
	}
	t.idx = map[string][]int{}
	for i, s := range t.strs {
		t.idx[s] = append(t.idx[s], i)
	}
}

// Encode writes p as an uncompressed protobuf in the given style; the
// random choices the style leaves open are drawn from r.
func Encode(p *Profile, st *Style, r *rand.Rand) []byte {
	w := &wire{r: r, style: st}
	t := &strtab{r: r}
	t.build(p, st)
	sub := func(fs []field, first int) []byte {
		return w.order(w.unknown(fs, first), st.Sub)
	}
	valueType := func(vt ValueType) []byte {
		var fs []field
		fs = w.u64(fs, 1, t.ref(vt.Type))
		fs = w.u64(fs, 2, t.ref(vt.Unit))
		return sub(fs, 3)
	}

	var top []field
	var header []field // fields 7..15, placed by the top order
	for _, vt := range p.SampleType {
		top = w.bytes(top, fSampleType, valueType(vt))
	}
	for _, s := range p.Sample {
		var fs []field
		fs = w.repeated(fs, 1, s.LocationID)
		vals := make([]uint64, len(s.Value))
		for i, v := range s.Value {
			vals[i] = uint64(v)
		}
		fs = w.repeated(fs, 2, vals)
		for _, l := range s.Label {
			var ls []field
			ls = w.u64(ls, 1, t.ref(l.Key))
			ls = w.u64(ls, 2, t.ref(l.Str))
			ls = w.i64(ls, 3, l.Num)
			ls = w.u64(ls, 4, t.ref(l.NumUnit))
			fs = w.bytes(fs, 3, sub(ls, 5))
		}
		top = w.bytes(top, fSample, sub(fs, 4))
	}
	for _, m := range p.Mapping {
		var fs []field
		fs = w.u64(fs, 1, m.ID)
		fs = w.u64(fs, 2, m.Start)
		fs = w.u64(fs, 3, m.Limit)
		fs = w.u64(fs, 4, m.Offset)
		fs = w.u64(fs, 5, t.ref(m.File))
		fs = w.u64(fs, 6, t.ref(m.BuildID))
		fs = w.boolean(fs, 7, m.HasFunctions)
		fs = w.boolean(fs, 8, m.HasFilenames)
		fs = w.boolean(fs, 9, m.HasLineNumbers)
		fs = w.boolean(fs, 10, m.HasInlineFrames)
		top = w.bytes(top, fMapping, sub(fs, 11))
	}
	for _, l := range p.Location {
		var fs []field
		fs = w.u64(fs, 1, l.ID)
		fs = w.u64(fs, 2, l.MappingID)
		fs = w.u64(fs, 3, l.Address)
		for _, ln := range l.Line {
			var lf []field
			lf = w.u64(lf, 1, ln.FunctionID)
			lf = w.i64(lf, 2, ln.Line)
			lf = w.i64(lf, 3, ln.Column)
			fs = w.bytes(fs, 4, sub(lf, 4))
		}
		fs = w.boolean(fs, 5, l.IsFolded)
		top = w.bytes(top, fLocation, sub(fs, 6))
	}
	for _, f := range p.Function {
		var fs []field
		fs = w.u64(fs, 1, f.ID)
		fs = w.u64(fs, 2, t.ref(f.Name))
		fs = w.u64(fs, 3, t.ref(f.SystemName))
		fs = w.u64(fs, 4, t.ref(f.Filename))
		fs = w.i64(fs, 5, f.StartLine)
		top = w.bytes(top, fFunction, sub(fs, 6))
	}
	var strs []field
	for _, s := range t.strs {
		strs = w.bytes(strs, fStringTable, []byte(s))
	}
	header = w.u64(header, fDropFrames, t.ref(p.DropFrames))
	header = w.u64(header, fKeepFrames, t.ref(p.KeepFrames))
	header = w.i64(header, fTimeNanos, p.TimeNanos)
	header = w.i64(header, fDurationNanos, p.DurationNanos)
	if p.PeriodType != nil {
		header = w.bytes(header, fPeriodType, valueType(*p.PeriodType))
	}
	header = w.i64(header, fPeriod, p.Period)
	cs := make([]uint64, len(p.Comments))
	for i, c := range p.Comments {
		cs[i] = t.ref(c)
	}
	header = w.repeated(header, fComment, cs)
	header = w.u64(header, fDefaultSampleType, t.ref(p.DefaultSampleType))
	header = w.u64(header, fDocURL, t.ref(p.DocURL))
	header = w.unknown(header, 16)

	cat := func(parts ...[]field) []field {
		var out []field
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	byNum := func(fs []field, nums ...int) []field {
		var out []field
		for _, n := range nums {
			for _, f := range fs {
				if f.num == n {
					out = append(out, f)
				}
			}
		}
		return out
	}
	switch st.Top {
	case TopPprof:
		return w.order(cat(top, strs, header), OrderCanonical)
	case TopGoRuntime:
		// runtime/pprof: time, sample types, duration, period type and
		// period, then samples, locations and functions as met, mappings,
		// string table, comments and default sample type last.
		var unknown []field
		for _, f := range header {
			if f.num > fDocURL {
				unknown = append(unknown, f)
			}
		}
		all := cat(byNum(header, fTimeNanos), byNum(top, fSampleType),
			byNum(header, fDurationNanos, fPeriodType, fPeriod),
			byNum(top, fSample, fLocation, fFunction, fMapping),
			strs, byNum(header, fComment, fDefaultSampleType, fDropFrames, fKeepFrames, fDocURL),
			unknown)
		return w.order(all, OrderCanonical)
	case TopStringsFirst:
		return w.order(cat(strs, top, header), OrderCanonical)
	case TopReverse:
		return w.order(cat(top, strs, header), OrderReverse)
	default:
		return w.order(cat(top, strs, header), OrderShuffle)
	}
}

// Compress wraps raw as the style says.
func Compress(raw []byte, st *Style, r *rand.Rand) []byte {
	switch st.Compression {
	case Gzip:
		var out bytes.Buffer
		parts := split(raw, st.GzipMembers, r)
		for i, part := range parts {
			level := []int{gzip.DefaultCompression, gzip.BestSpeed, gzip.BestCompression, gzip.NoCompression}[r.IntN(4)]
			zw, _ := gzip.NewWriterLevel(&out, level)
			if st.GzipHeader {
				zw.Name = fmt.Sprintf("cpu-%d.pprof", i)
				zw.Comment = "made by pgofetch/tests/gen"
				zw.Extra = []byte{'P', 'G', 4, 0, 1, 2, 3, 4}
			}
			zw.Write(part)
			zw.Close()
		}
		return out.Bytes()
	case Zstd:
		var out bytes.Buffer
		if st.ZstdSkippable {
			// magic 0x184D2A5x, little-endian length, user data
			out.Write([]byte{0x50 + byte(r.IntN(16)), 0x2a, 0x4d, 0x18, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'})
		}
		for _, part := range split(raw, st.ZstdFrames, r) {
			opts := []zstd.EOption{zstd.WithEncoderLevel(zstd.EncoderLevel(1 + r.IntN(4)))}
			if r.IntN(2) == 0 {
				opts = append(opts, zstd.WithEncoderCRC(false))
			}
			if r.IntN(3) == 0 {
				opts = append(opts, zstd.WithSingleSegment(true))
			}
			zw, err := zstd.NewWriter(&out, opts...)
			if err != nil {
				panic(err)
			}
			zw.Write(part)
			zw.Close()
		}
		return out.Bytes()
	default:
		return raw
	}
}

// split cuts data into n pieces (n < 2: one piece).
func split(data []byte, n int, r *rand.Rand) [][]byte {
	if n < 2 || len(data) < n {
		return [][]byte{data}
	}
	cuts := map[int]bool{}
	for len(cuts) < n-1 {
		cuts[1+r.IntN(len(data)-1)] = true
	}
	var parts [][]byte
	last := 0
	for i := 1; i < len(data); i++ {
		if cuts[i] {
			parts = append(parts, data[last:i])
			last = i
		}
	}
	return append(parts, data[last:])
}

// IsZstd tells zstd data by its first frame's magic number, a skippable
// frame's included.
func IsZstd(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	if data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd {
		return true
	}
	return data[0]&0xf0 == 0x50 && data[1] == 0x2a && data[2] == 0x4d && data[3] == 0x18
}
