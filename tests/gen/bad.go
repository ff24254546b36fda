package gen

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"

	"github.com/klauspost/compress/zstd"
)

// Minimal is a small valid CPU profile: two functions, two locations, two
// samples, as runtime/pprof would describe them.
func Minimal() *Profile {
	return &Profile{
		SampleType: []ValueType{{"samples", "count"}, {"cpu", "nanoseconds"}},
		Sample: []Sample{
			{LocationID: []uint64{1, 2}, Value: []int64{3, 30000000}},
			{LocationID: []uint64{2}, Value: []int64{1, 10000000}},
		},
		Mapping: []Mapping{{ID: 1, Start: 0x400000, Limit: 0x800000, File: "/bin/app", HasFunctions: true}},
		Location: []Location{
			{ID: 1, MappingID: 1, Address: 0x401000, Line: []Line{{FunctionID: 1, Line: 12}}},
			{ID: 2, MappingID: 1, Address: 0x402000, Line: []Line{{FunctionID: 2, Line: 30}}},
		},
		Function: []Function{
			{ID: 1, Name: "main.work", SystemName: "main.work", Filename: "main.go", StartLine: 10},
			{ID: 2, Name: "main.main", SystemName: "main.main", Filename: "main.go", StartLine: 25},
		},
		TimeNanos:     1700000000000000000,
		DurationNanos: 1e9,
		PeriodType:    &ValueType{"cpu", "nanoseconds"},
		Period:        10000000,
	}
}

// Plain encodes p the way pprof does (canonical order, no tricks).
func Plain(p *Profile) []byte {
	return Encode(p, &Style{}, rand.New(rand.NewPCG(1, 2)))
}

// Gzipped and Zstded compress data plainly.
func Gzipped(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func Zstded(data []byte) []byte {
	var b bytes.Buffer
	zw, err := zstd.NewWriter(&b)
	if err != nil {
		panic(err)
	}
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// Bad inputs, each wrong in exactly one way. The profile-level ones are raw
// protobuf (as valid a file as can be but for the one fault).

// TruncatedGzip is a gzip-compressed profile cut short.
func TruncatedGzip() []byte {
	g := Gzipped(Plain(Minimal()))
	return g[:len(g)*2/3]
}

// CorruptGzipCRC is a gzip-compressed profile whose CRC-32 trailer is wrong.
func CorruptGzipCRC() []byte {
	g := Gzipped(Plain(Minimal()))
	g[len(g)-8] ^= 0xff
	return g
}

// TruncatedZstd is a zstd-compressed profile cut short.
func TruncatedZstd() []byte {
	z := Zstded(Plain(Minimal()))
	return z[:len(z)*2/3]
}

// BadVarint is a profile with a varint longer than 10 bytes (a time_nanos
// field whose value never ends).
func BadVarint() []byte {
	b := []byte{fTimeNanos << 3}
	for i := 0; i < 11; i++ {
		b = append(b, 0xff)
	}
	b = append(b, 0x01)
	return append(Plain(withoutTime(Minimal())), b...)
}

func withoutTime(p *Profile) *Profile { p.TimeNanos = 0; return p }

// LengthPastEnd ends with a sample whose length runs past the end of the
// data.
func LengthPastEnd() []byte {
	return append(Plain(Minimal()), fSample<<3|2, 100, 0x0a, 0x01, 0x01)
}

// WrongWireType has a sample_type written as a varint instead of a message.
func WrongWireType() []byte {
	return append([]byte{fSampleType << 3, 0x01}, Plain(Minimal())...)
}

// GroupWireType has a field of the deprecated group wire type (3).
func GroupWireType() []byte {
	return append(Plain(Minimal()), fDocURL<<3|3, 0x00)
}

// StringIndexOutOfRange has a function name index past the string table.
func StringIndexOutOfRange() []byte {
	// Location 2 calls function 3, written by hand with name index 99.
	p := Minimal()
	p.Location[1].Line[0].FunctionID = 3
	raw := Plain(p)
	fn := []byte{0x08, 0x03, 0x10, 99} // id 3, name 99
	return append(raw, append([]byte{fFunction<<3 | 2, byte(len(fn))}, fn...)...)
}

// MissingFunction has a location line naming a function id that no
// function has.
func MissingFunction() []byte {
	p := Minimal()
	p.Location[1].Line[0].FunctionID = 7
	return Plain(p)
}

// NilFunction has a location line without a function id (0).
func NilFunction() []byte {
	p := Minimal()
	p.Location[1].Line = append(p.Location[1].Line, Line{FunctionID: 0, Line: 3})
	return Plain(p)
}

// MissingLocation has a sample naming a location id that no location has.
func MissingLocation() []byte {
	p := Minimal()
	p.Sample[1].LocationID = []uint64{2, 9}
	return Plain(p)
}

// DuplicateFunctionID has two functions with id 2.
func DuplicateFunctionID() []byte {
	p := Minimal()
	p.Function = append(p.Function, Function{ID: 2, Name: "main.other", Filename: "main.go", StartLine: 40})
	return Plain(p)
}

// DuplicateLocationID has two locations with id 1.
func DuplicateLocationID() []byte {
	p := Minimal()
	p.Location = append(p.Location, Location{ID: 1, MappingID: 1, Address: 0x403000, Line: []Line{{FunctionID: 1, Line: 14}}})
	return Plain(p)
}

// ZeroLocationID has a location with id 0 (the field absent).
func ZeroLocationID() []byte {
	p := Minimal()
	p.Location = append(p.Location, Location{ID: 0, MappingID: 1, Address: 0x403000, Line: []Line{{FunctionID: 1, Line: 14}}})
	return Plain(p)
}

// ZeroFunctionID has a function with id 0.
func ZeroFunctionID() []byte {
	p := Minimal()
	p.Function = append(p.Function, Function{ID: 0, Name: "main.zero", Filename: "main.go", StartLine: 50})
	return Plain(p)
}

// WrongValueCount has a sample with one value for two sample types.
func WrongValueCount() []byte {
	p := Minimal()
	p.Sample[1].Value = []int64{5}
	return Plain(p)
}

// FirstStringNotEmpty has a string table whose entry 0 is not "".
func FirstStringNotEmpty() []byte {
	raw := Plain(Minimal())
	// Strings come after functions in pprof's order; put a bad table
	// first instead: a decoder sees "x" as string 0.
	return append([]byte{fStringTable<<3 | 2, 1, 'x'}, raw...)
}

// SamplesWithoutTypes has samples but no sample types.
func SamplesWithoutTypes() []byte {
	p := Minimal()
	p.SampleType = nil
	for i := range p.Sample {
		p.Sample[i].Value = []int64{1}
	}
	return Plain(p)
}

// WithSampleTypes returns Minimal with other sample types (and as many
// values per sample).
func WithSampleTypes(types ...ValueType) *Profile {
	p := Minimal()
	p.SampleType = types
	for i := range p.Sample {
		v := make([]int64, len(types))
		for j := range v {
			v[j] = int64(i + j + 1)
		}
		p.Sample[i].Value = v
	}
	return p
}

// WithPeriodType returns Minimal with another period type.
func WithPeriodType(vt *ValueType) *Profile {
	p := Minimal()
	p.PeriodType = vt
	return p
}
