package gen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// Dump prints every field of p that the wire format carries, ids and
// order included.
func Dump(p *profile.Profile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "drop=%q keep=%q time=%d dur=%d period=%d periodtype=%q/%q comments=%q default=%q doc=%q\n",
		p.DropFrames, p.KeepFrames, p.TimeNanos, p.DurationNanos, p.Period, p.PeriodType.Type, p.PeriodType.Unit,
		p.Comments, p.DefaultSampleType, p.DocURL)
	for _, st := range p.SampleType {
		fmt.Fprintf(&b, "type %q/%q\n", st.Type, st.Unit)
	}
	for _, s := range p.Sample {
		fmt.Fprintf(&b, "sample %v", s.Value)
		for _, l := range s.Location {
			fmt.Fprintf(&b, " %d", l.ID)
		}
		var keys []string
		for k := range s.Label {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %q=%q", k, s.Label[k])
		}
		keys = keys[:0]
		for k := range s.NumLabel {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %q=%v%q", k, s.NumLabel[k], s.NumUnit[k])
		}
		b.WriteByte('\n')
	}
	for _, m := range p.Mapping {
		fmt.Fprintf(&b, "mapping %d %x %x %x %q %q %v %v %v %v\n", m.ID, m.Start, m.Limit, m.Offset, m.File, m.BuildID,
			m.HasFunctions, m.HasFilenames, m.HasLineNumbers, m.HasInlineFrames)
	}
	for _, l := range p.Location {
		var mid uint64
		if l.Mapping != nil {
			mid = l.Mapping.ID
		}
		fmt.Fprintf(&b, "location %d %d %x %v", l.ID, mid, l.Address, l.IsFolded)
		for _, ln := range l.Line {
			fmt.Fprintf(&b, " %d:%d:%d", ln.Function.ID, ln.Line, ln.Column)
		}
		b.WriteByte('\n')
	}
	for _, f := range p.Function {
		fmt.Fprintf(&b, "function %d %q %q %q %d\n", f.ID, f.Name, f.SystemName, f.Filename, f.StartLine)
	}
	return b.String()
}

// FirstDiff describes the first line where two dumps differ.
func FirstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}
