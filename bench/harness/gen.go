package main

// The generated inputs: CPU profiles that look like those of a busy
// production Go service as Datadog stores them (runtime/pprof's shape, with
// dd-trace-go's span labels). They are deterministic: the same scale gives
// the same bytes, so they are made once and cached.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/google/pprof/profile"
	"github.com/klauspost/compress/zstd"
)

// scale says how big the generated profiles are.
type scale struct {
	Name      string
	Profiles  int // how many profiles (one service, one after another in time)
	Samples   int // samples per profile
	Functions int // functions in the binary
	Stacks    int // distinct call stacks the service runs (shared by all profiles)
	Depth     int // mean stack depth
}

var (
	bigScale  = scale{Name: "big", Profiles: 5, Samples: 100_000, Functions: 24_000, Stacks: 90_000, Depth: 60}
	tinyScale = scale{Name: "tiny", Profiles: 5, Samples: 2_000, Functions: 800, Stacks: 1_500, Depth: 24}
)

// genVersion changes whenever the generator's output changes, so that a
// cached set of another version is made anew.
const genVersion = 2

// input is one generated profile in both compressions.
type input struct {
	ID        string
	Gzip, Zst string // file paths
	RawBytes  int    // decompressed size
}

// genInputs makes (or finds in dir) the profiles of sc.
func genInputs(dir string, sc scale) ([]input, error) {
	dir = filepath.Join(dir, fmt.Sprintf("inputs-%s-v%d", sc.Name, genVersion))
	var ins []input
	cached := true
	for i := 0; i < sc.Profiles; i++ {
		id := fmt.Sprintf("%s-%d", sc.Name, i+1)
		in := input{ID: id, Gzip: filepath.Join(dir, id+".pb.gz"), Zst: filepath.Join(dir, id+".pb.zst")}
		ins = append(ins, in)
		if _, err := os.Stat(in.Zst); err != nil {
			cached = false
		}
	}
	if !cached {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		w := newWorld(sc)
		for i := range ins {
			p := w.profile(i)
			var raw bytes.Buffer
			if err := p.WriteUncompressed(&raw); err != nil {
				return nil, err
			}
			var gz bytes.Buffer
			if err := p.Write(&gz); err != nil { // gzip, as runtime/pprof writes
				return nil, err
			}
			var zs bytes.Buffer
			enc, err := zstd.NewWriter(&zs, zstd.WithEncoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			enc.Write(raw.Bytes())
			if err := enc.Close(); err != nil {
				return nil, err
			}
			if err := writeFileAtomic(ins[i].Gzip, gz.Bytes()); err != nil {
				return nil, err
			}
			if err := writeFileAtomic(ins[i].Zst, zs.Bytes()); err != nil {
				return nil, err
			}
		}
	}
	for i := range ins {
		n, err := rawSize(ins[i].Gzip)
		if err != nil {
			return nil, err
		}
		ins[i].RawBytes = n
	}
	return ins, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// world is the service: its binary (functions, inlined call sites,
// locations) and the call stacks it runs.
type world struct {
	sc     scale
	r      *rand.Rand
	funcs  []*profile.Function
	maps   []*profile.Mapping
	locs   []*profile.Location
	stacks [][]*profile.Location // leaf first
	zipf   *rand.Zipf
	endpts []string
}

var pkgNames = []string{
	"runtime", "sync", "net/http", "net", "encoding/json", "crypto/tls", "bufio", "io", "strings",
	"google.golang.org/grpc", "google.golang.org/grpc/internal/transport", "google.golang.org/protobuf/proto",
	"github.com/acme/orders/internal/store", "github.com/acme/orders/internal/api", "github.com/acme/orders/pkg/cache",
	"github.com/jackc/pgx/v5/pgconn", "go.opentelemetry.io/otel/sdk/trace", "github.com/DataDog/dd-trace-go/v2/ddtrace/tracer",
	"compress/flate", "hash/crc32", "sort", "reflect", "math/big", "time", "context", "os", "syscall",
}

func newWorld(sc scale) *world {
	w := &world{sc: sc, r: rand.New(rand.NewPCG(uint64(sc.Samples), 0x5eed))}
	r := w.r
	w.maps = []*profile.Mapping{
		{ID: 1, Start: 0x400000, Limit: 0x4000000, File: "/app/orders-service", BuildID: "f3a1c9d2e8b74a6f", HasFunctions: true, HasFilenames: true, HasLineNumbers: true, HasInlineFrames: true},
		{ID: 2, Start: 0x7f0000000000, Limit: 0x7f0000200000, Offset: 0x28000, File: "/lib/x86_64-linux-gnu/libc.so.6", BuildID: "ab12cd34"},
		{ID: 3, Start: 0x7ffd00000000, Limit: 0x7ffd00002000, File: "[vdso]"},
	}
	for i := 0; i < sc.Functions; i++ {
		pkg := pkgNames[r.IntN(len(pkgNames))]
		var name string
		switch r.IntN(5) {
		case 0:
			name = fmt.Sprintf("%s.(*Type%d).Method%d", pkg, r.IntN(400), i)
		case 1:
			name = fmt.Sprintf("%s.handler%d.func%d", pkg, i, 1+r.IntN(4))
		default:
			name = fmt.Sprintf("%s.function%d", pkg, i)
		}
		file := fmt.Sprintf("/go/src/%s/file%d.go", pkg, r.IntN(60))
		w.funcs = append(w.funcs, &profile.Function{ID: uint64(i + 1), Name: name, SystemName: name, Filename: file, StartLine: int64(10 + r.IntN(2000))})
	}
	// The functions of Datadog's no-inline rename are in busy gRPC services.
	special := []string{"google.golang.org/grpc/internal/transport.(*loopyWriter).processData", "runtime.gopark"}
	for _, name := range special {
		w.funcs = append(w.funcs, &profile.Function{ID: uint64(len(w.funcs) + 1), Name: name, SystemName: name, Filename: "/go/src/x.go", StartLine: 400})
	}
	// Locations: one per call site; a third inline one to three more
	// frames (Go inlines small functions a lot).
	nlocs := sc.Functions * 2
	addr := uint64(0x401000)
	for i := 0; i < nlocs; i++ {
		addr += uint64(8 + r.IntN(200))
		loc := &profile.Location{ID: uint64(i + 1), Mapping: w.maps[0], Address: addr}
		nl := 1
		if r.IntN(3) == 0 {
			nl += 1 + r.IntN(3)
		}
		for j := 0; j < nl; j++ {
			f := w.funcs[w.skewed(len(w.funcs))]
			loc.Line = append(loc.Line, profile.Line{Function: f, Line: f.StartLine + int64(r.IntN(120))})
		}
		w.locs = append(w.locs, loc)
	}
	for _, name := range special { // leaf locations of the special functions
		f := w.funcByName(name)
		w.locs = append(w.locs, &profile.Location{ID: uint64(len(w.locs) + 1), Mapping: w.maps[0], Address: addr + uint64(len(w.locs)), Line: []profile.Line{{Function: f, Line: f.StartLine + 3}}})
	}
	// Stacks: a tree of call paths from a few roots (what goroutines run),
	// so that stacks share their root-side frames as real ones do.
	roots := make([][]*profile.Location, 40)
	for i := range roots {
		d := 4 + r.IntN(10)
		for j := 0; j < d; j++ {
			roots[i] = append(roots[i], w.locs[w.skewed(len(w.locs))])
		}
	}
	for i := 0; i < sc.Stacks; i++ {
		root := roots[w.skewed(len(roots))]
		depth := int(float64(sc.Depth) * math.Exp(r.NormFloat64()*0.35))
		if depth < len(root)+1 {
			depth = len(root) + 1
		}
		if depth > 4*sc.Depth {
			depth = 4 * sc.Depth
		}
		st := make([]*profile.Location, 0, depth)
		// Derive from an earlier stack half the time: shared prefixes.
		if i > 0 && r.IntN(2) == 0 {
			prev := w.stacks[r.IntN(len(w.stacks))]
			keep := len(prev) / 2
			st = append(st, prev[len(prev)-keep:]...) // root side
		} else {
			st = append(st, root...)
		}
		for len(st) < depth {
			st = append(st, w.locs[r.IntN(len(w.locs))])
		}
		if r.IntN(50) == 0 { // a gopark or grpc leaf
			st = append(st, w.locs[len(w.locs)-1-r.IntN(2)])
		}
		// reverse into leaf-first order
		for a, b := 0, len(st)-1; a < b; a, b = a+1, b-1 {
			st[a], st[b] = st[b], st[a]
		}
		w.stacks = append(w.stacks, st)
	}
	w.zipf = rand.NewZipf(r, 1.1, 4, uint64(sc.Stacks-1))
	for i := 0; i < 60; i++ {
		w.endpts = append(w.endpts, fmt.Sprintf("POST /api/v2/orders/%d", i))
	}
	return w
}

// skewed picks an index in [0,n) favouring small ones (hot functions).
func (w *world) skewed(n int) int {
	x := w.r.ExpFloat64() * float64(n) / 6
	if x >= float64(n) {
		return w.r.IntN(n)
	}
	return int(x)
}

func (w *world) funcByName(name string) *profile.Function {
	for _, f := range w.funcs {
		if f.Name == name {
			return f
		}
	}
	panic(name)
}

// profile is the i-th profile of the service: a minute of CPU samples at
// 100 Hz, with dd-trace-go's labels. Hot stacks recur in every profile; a
// share of each profile's stacks is its own.
func (w *world) profile(i int) *profile.Profile {
	const period = 10_000_000
	r := rand.New(rand.NewPCG(uint64(i+1), uint64(w.sc.Samples)))
	zipf := rand.NewZipf(r, 1.1, 4, uint64(w.sc.Stacks-1))
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        period,
		DurationNanos: int64(60e9),
		TimeNanos:     int64(1_780_000_000e9) + int64(i)*int64(60e9),
		Mapping:       w.maps,
		Location:      w.locs,
		Function:      w.funcs,
	}
	// Each profile rotates which part of the tail it samples: overlap, not
	// identity.
	shift := i * w.sc.Stacks / 7
	for n := 0; n < w.sc.Samples; n++ {
		k := int(zipf.Uint64())
		if k > w.sc.Stacks/20 { // the cold tail differs from profile to profile
			k = (k + shift) % w.sc.Stacks
		}
		cnt := int64(1 + r.IntN(3))
		if k < 50 {
			cnt += int64(r.IntN(200))
		}
		s := &profile.Sample{
			Location: w.stacks[k],
			Value:    []int64{cnt, cnt * period},
		}
		if r.IntN(4) != 0 { // most samples run inside a traced request
			root := fmt.Sprint(r.Uint64() >> 1)
			span := root
			if r.IntN(2) == 0 {
				span = fmt.Sprint(r.Uint64() >> 1)
			}
			s.Label = map[string][]string{
				"local root span id": {root},
				"span id":            {span},
				"trace endpoint":     {w.endpts[r.IntN(len(w.endpts))]},
			}
		}
		p.Sample = append(p.Sample, s)
	}
	// Only what the samples use, renumbered as runtime/pprof would have it.
	return p.Compact()
}

// rawSize is the decompressed size of a gzip file.
func rawSize(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, zr)
	return int(n), err
}
