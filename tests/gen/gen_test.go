package gen

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/klauspost/compress/zstd"
)

func zipReadAll(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		_, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// parse reads a generated file as refmerge does: zstd decompressed first,
// then profile.ParseData (gzip or raw).
func parse(data []byte) (*profile.Profile, error) {
	if IsZstd(data) {
		d, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		if data, err = io.ReadAll(d); err != nil {
			return nil, err
		}
	}
	return profile.ParseData(data)
}

// expect is what pprof must make of m.
func expect(m *Profile) *profile.Profile {
	p := &profile.Profile{
		DropFrames: m.DropFrames, KeepFrames: m.KeepFrames,
		TimeNanos: m.TimeNanos, DurationNanos: m.DurationNanos, Period: m.Period,
		Comments: m.Comments, DefaultSampleType: m.DefaultSampleType, DocURL: m.DocURL,
		PeriodType: &profile.ValueType{},
	}
	if m.PeriodType != nil {
		p.PeriodType = &profile.ValueType{Type: m.PeriodType.Type, Unit: m.PeriodType.Unit}
	}
	for _, st := range m.SampleType {
		p.SampleType = append(p.SampleType, &profile.ValueType{Type: st.Type, Unit: st.Unit})
	}
	maps := map[uint64]*profile.Mapping{}
	for _, x := range m.Mapping {
		mm := &profile.Mapping{ID: x.ID, Start: x.Start, Limit: x.Limit, Offset: x.Offset, File: x.File, BuildID: x.BuildID,
			HasFunctions: x.HasFunctions, HasFilenames: x.HasFilenames, HasLineNumbers: x.HasLineNumbers, HasInlineFrames: x.HasInlineFrames}
		maps[x.ID] = mm
		p.Mapping = append(p.Mapping, mm)
	}
	fns := map[uint64]*profile.Function{}
	for _, f := range m.Function {
		ff := &profile.Function{ID: f.ID, Name: f.Name, SystemName: f.SystemName, Filename: f.Filename, StartLine: f.StartLine}
		fns[f.ID] = ff
		p.Function = append(p.Function, ff)
	}
	locs := map[uint64]*profile.Location{}
	for _, l := range m.Location {
		ll := &profile.Location{ID: l.ID, Mapping: maps[l.MappingID], Address: l.Address, IsFolded: l.IsFolded}
		for _, ln := range l.Line {
			ll.Line = append(ll.Line, profile.Line{Function: fns[ln.FunctionID], Line: ln.Line, Column: ln.Column})
		}
		locs[l.ID] = ll
		p.Location = append(p.Location, ll)
	}
	for _, s := range m.Sample {
		ss := &profile.Sample{Value: s.Value}
		for _, id := range s.LocationID {
			ss.Location = append(ss.Location, locs[id])
		}
		for _, l := range s.Label {
			switch {
			case l.Str != "":
				if ss.Label == nil {
					ss.Label = map[string][]string{}
				}
				ss.Label[l.Key] = append(ss.Label[l.Key], l.Str)
			case l.Num != 0 || l.NumUnit != "":
				if ss.NumLabel == nil {
					ss.NumLabel = map[string][]int64{}
					ss.NumUnit = map[string][]string{}
				}
				if l.NumUnit != "" {
					u := ss.NumUnit[l.Key]
					for len(u) < len(ss.NumLabel[l.Key]) {
						u = append(u, "")
					}
					ss.NumUnit[l.Key] = append(u, l.NumUnit)
				}
				ss.NumLabel[l.Key] = append(ss.NumLabel[l.Key], l.Num)
			}
		}
		for k, u := range ss.NumUnit {
			for len(u) < len(ss.NumLabel[k]) {
				u = append(u, "")
			}
			ss.NumUnit[k] = u
		}
		p.Sample = append(p.Sample, ss)
	}
	return p
}

// Every generated profile is valid for google/pprof, and pprof reads back
// exactly the profile the generator meant to write.
func TestGeneratedProfilesParse(t *testing.T) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := NewSet(c.Seed, c.Options)
			for i, f := range s.Files {
				p, err := parse(f.Data)
				if err != nil {
					t.Fatalf("profile %d (%s, style %+v): pprof refuses it: %v", i, f.Style.Compression, f.Style, err)
				}
				got, want := Dump(p), Dump(expect(f.Profile))
				if got != want {
					t.Fatalf("profile %d (style %+v): pprof reads something else than meant:\n%s", i, f.Style, FirstDiff(got, want))
				}
			}
		})
	}
}

// A seed always gives the same bytes.
func TestDeterministic(t *testing.T) {
	for _, c := range Cases()[:20] {
		a, b := NewSet(c.Seed, c.Options), NewSet(c.Seed, c.Options)
		if len(a.Files) != len(b.Files) {
			t.Fatalf("%s: %d then %d files", c.Name, len(a.Files), len(b.Files))
		}
		for i := range a.Files {
			if !bytes.Equal(a.Files[i].Data, b.Files[i].Data) {
				t.Fatalf("%s: file %d differs between two runs", c.Name, i)
			}
		}
	}
}

// The plan covers what it claims: each feature shows up somewhere.
func TestCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Cases() {
		s := NewSet(c.Seed, c.Options)
		if len(s.Files) == 1 {
			seen["single input"] = true
		}
		if len(s.Files) == 5 {
			seen["five inputs"] = true
		}
		for _, f := range s.Files {
			seen["compression "+f.Style.Compression.String()] = true
			seen[fmt.Sprintf("top order %d", f.Style.Top)] = true
			seen[fmt.Sprintf("packing %d", f.Style.Packing)] = true
			if len(f.Profile.Mapping) > 1 {
				seen["several mappings"] = true
			}
			for _, l := range f.Profile.Location {
				if len(l.Line) > 1 {
					seen["inline frames"] = true
				}
			}
			stacks := map[string]bool{}
			for _, s := range f.Profile.Sample {
				zero := true
				for _, v := range s.Value {
					zero = zero && v == 0
				}
				if zero {
					seen["all-zero sample"] = true
				}
				k := fmt.Sprint(s.LocationID)
				if stacks[k] {
					seen["duplicate stack"] = true
				}
				stacks[k] = true
				for _, l := range s.Label {
					if l.Str != "" {
						seen["string label"] = true
					} else if l.NumUnit != "" {
						seen["numeric label with unit"] = true
					} else if l.Num != 0 {
						seen["numeric label without unit"] = true
					}
				}
				for _, loc := range f.Profile.Location {
					if len(s.LocationID) > 0 && loc.ID == s.LocationID[0] && len(loc.Line) > 0 {
						for _, fn := range f.Profile.Function {
							if fn.ID == loc.Line[0].FunctionID && (fn.Name == Gopark || fn.Name == GrpcProcessData) {
								seen["no-inline leaf"] = true
							}
						}
					}
				}
			}
			if len(f.Profile.SampleType) > 1 {
				seen["several sample types"] = true
			}
			if f.Profile.DocURL != "" {
				seen["doc_url"] = true
			}
			if f.Profile.DefaultSampleType != "" {
				seen["default_sample_type"] = true
			}
			if len(f.Profile.Comments) > 0 {
				seen["comments"] = true
			}
		}
	}
	for _, want := range []string{"single input", "five inputs", "compression raw", "compression gzip", "compression zstd",
		"top order 0", "top order 1", "top order 2", "top order 3", "top order 4",
		"packing 0", "packing 1", "packing 2", "packing 3", "packing 4",
		"several mappings", "inline frames", "all-zero sample", "duplicate stack", "string label",
		"numeric label with unit", "numeric label without unit", "no-inline leaf", "several sample types",
		"doc_url", "default_sample_type", "comments"} {
		if !seen[want] {
			t.Errorf("no generated set has: %s", want)
		}
	}
}

// Every bad input is refused by pprof too: the oracle agrees it is bad.
func TestBadInputsRejectedByPprof(t *testing.T) {
	good := Plain(Minimal())
	if _, err := profile.ParseData(good); err != nil {
		t.Fatalf("Minimal is not valid: %v", err)
	}
	for name, data := range map[string][]byte{
		"truncated gzip":       TruncatedGzip(),
		"gzip CRC":             CorruptGzipCRC(),
		"truncated zstd":       TruncatedZstd(),
		"bad varint":           BadVarint(),
		"length past end":      LengthPastEnd(),
		"wrong wire type":      WrongWireType(),
		"group wire type":      GroupWireType(),
		"string index":         StringIndexOutOfRange(),
		"missing function":     MissingFunction(),
		"nil function":         NilFunction(),
		"missing location":     MissingLocation(),
		"duplicate function":   DuplicateFunctionID(),
		"duplicate location":   DuplicateLocationID(),
		"zero location id":     ZeroLocationID(),
		"zero function id":     ZeroFunctionID(),
		"wrong value count":    WrongValueCount(),
		"first string":         FirstStringNotEmpty(),
		"samples without type": SamplesWithoutTypes(),
		"empty":                {},
	} {
		if _, err := parse(data); err == nil {
			t.Errorf("%s: pprof accepts it", name)
		}
	}
	for _, z := range []string{"corrupt deflate", "bad crc", "method", "empty", "truncated"} {
		var data []byte
		switch z {
		case "corrupt deflate":
			data = ZipCorruptDeflate(good)
		case "bad crc":
			data = ZipBadCRC(good)
		case "method":
			data = ZipUnsupportedMethod(good)
		case "empty":
			data = ZipEmpty()
		case "truncated":
			data = ZipTruncated(good)
		}
		if err := zipReadAll(data); err == nil && z != "empty" {
			t.Errorf("ZIP %s: archive/zip reads it without error", z)
		}
	}
}
