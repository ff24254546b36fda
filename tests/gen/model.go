// Package gen makes pprof CPU profiles for pgofetch's tests, written by
// hand with its own protobuf writer rather than with google/pprof, so that
// it can produce everything the format allows and pprof itself never
// writes: fields in any order, packed and unpacked repeated fields, explicit
// zero values, shuffled and duplicated string tables, padded varints,
// unknown fields. Everything is derived from a seed, so a failure can be
// reproduced from the seed alone.
package gen

// Profile is a pprof profile at the level of the wire format: entities
// refer to each other by id, strings are resolved by the encoder.
type Profile struct {
	SampleType        []ValueType
	Sample            []Sample
	Mapping           []Mapping
	Location          []Location
	Function          []Function
	DropFrames        string
	KeepFrames        string
	TimeNanos         int64
	DurationNanos     int64
	PeriodType        *ValueType // nil: field absent
	Period            int64
	Comments          []string
	DefaultSampleType string
	DocURL            string
}

type ValueType struct{ Type, Unit string }

type Sample struct {
	LocationID []uint64 // leaf first
	Value      []int64
	Label      []Label
}

// Label is a string label (Str set), a numeric one (Num and optional
// NumUnit), or, written as is, anything in between.
type Label struct {
	Key     string
	Str     string
	Num     int64
	NumUnit string
}

type Mapping struct {
	ID, Start, Limit, Offset uint64
	File, BuildID            string
	HasFunctions             bool
	HasFilenames             bool
	HasLineNumbers           bool
	HasInlineFrames          bool
}

type Location struct {
	ID, MappingID, Address uint64
	Line                   []Line // innermost (inlined) first
	IsFolded               bool
}

type Line struct {
	FunctionID   uint64
	Line, Column int64
}

type Function struct {
	ID                         uint64
	Name, SystemName, Filename string
	StartLine                  int64
}

// Order is how the fields of a message are laid out.
type Order int

const (
	OrderCanonical Order = iota // by field number, as pprof writes
	OrderReverse                // field groups in reverse order
	OrderShuffle                // a random interleaving (per-field order kept)
	numOrders
)

// TopOrder is how the fields of the Profile message are laid out.
type TopOrder int

const (
	TopPprof        TopOrder = iota // as profile.Write: string table after functions
	TopGoRuntime                    // as runtime/pprof: header first, string table last
	TopStringsFirst                 // string table before everything else
	TopReverse
	TopShuffle
	numTopOrders
)

// Packing is how repeated scalars (sample locations and values, comments)
// are written.
type Packing int

const (
	PackPprof  Packing = iota // packed when more than 2 values, as profile.Write
	PackAlways                // always packed
	PackNever                 // never packed
	PackSplit                 // a mix of packed runs and single values
	PackRandom                // one of the above per field
)

// Compression of the file.
type Compression int

const (
	Raw Compression = iota
	Gzip
	Zstd
	numCompressions
)

func (c Compression) String() string {
	return [...]string{"raw", "gzip", "zstd"}[c]
}

// Style is how one profile is encoded.
type Style struct {
	Top           TopOrder
	Sub           Order   // order of the fields inside nested messages
	Packing       Packing // repeated scalars
	ExplicitZeros float64 // probability of writing a zero optional field
	PadVarints    float64 // probability of an over-long varint
	UnknownFields float64 // probability (repeated) of an unknown field in a message
	OddBools      bool    // write true as varints other than 1
	ShuffleStrs   bool    // string table not in first-use order
	DupStrs       bool    // duplicate strings in the table, references spread over them
	UnusedStrs    bool    // strings nothing refers to
	Compression   Compression
	GzipHeader    bool // gzip header with a file name, comment and extra field
	GzipMembers   int  // >1: the data split over this many gzip members
	ZstdFrames    int  // >1: the data split over this many zstd frames
	ZstdSkippable bool // a skippable frame first
}
