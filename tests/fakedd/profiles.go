package fakedd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"github.com/klauspost/compress/zstd"
)

// Profile is one profile the fake API can serve.
type Profile struct {
	// ID is the profile id: the ZIP entry name on the gopgo endpoint and
	// the <id> of the download URL.
	ID string
	// Data is the profile as stored by Datadog and served byte for byte:
	// gzip- or zstd-compressed protobuf, or raw protobuf.
	Data []byte
	// Service, when set, is the only service:NAME query this profile
	// matches. Empty matches any service (and the list endpoint reports
	// the service the query named).
	Service string
	// Tags are further key:value pairs a query may name (env:prod,
	// version:1.2). A query term whose key the profile has no tag for
	// matches: the fake is lenient where Datadog would know more.
	Tags []string

	// Filled in from Data by AddProfile when zero.
	CPUCores      float64   // sum of cpu/nanoseconds values / duration
	DurationNanos int64     // the profile's duration_nanos
	Timestamp     time.Time // the profile's time_nanos, UTC
	EventID       string    // the list endpoint's event id, derived from ID
}

// Compression kinds, told apart by magic bytes as the API contract says.
const (
	compRaw  = "raw"
	compGzip = "gzip"
	compZstd = "zstd"
)

func compressionOf(b []byte) string {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return compGzip
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return compZstd
	}
	return compRaw
}

// parseProfile decodes profile bytes of any of the three kinds.
func parseProfile(b []byte) (*profile.Profile, error) {
	if compressionOf(b) == compZstd {
		d, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		raw, err := io.ReadAll(d)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		b = raw
	}
	// ParseData handles gzip and raw protobuf.
	return profile.ParseData(b)
}

// encodeProfile writes p compressed as kind, so a changed profile keeps the
// compression of the one it was derived from.
func encodeProfile(p *profile.Profile, kind string) ([]byte, error) {
	var buf bytes.Buffer
	switch kind {
	case compGzip:
		if err := p.Write(&buf); err != nil {
			return nil, err
		}
	case compZstd:
		e, err := zstd.NewWriter(&buf)
		if err != nil {
			return nil, err
		}
		if err := p.WriteUncompressed(e); err != nil {
			return nil, err
		}
		if err := e.Close(); err != nil {
			return nil, err
		}
	default:
		if err := p.WriteUncompressed(&buf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// cpuCores is what Datadog's @metrics.core_cpu_cores says: CPU time per
// wall time, from the cpu/nanoseconds sample values over duration_nanos.
func cpuCores(p *profile.Profile) float64 {
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			idx = i
			break
		}
	}
	if idx < 0 || p.DurationNanos <= 0 {
		return 0
	}
	var sum int64
	for _, s := range p.Sample {
		sum += s.Value[idx]
	}
	return float64(sum) / float64(p.DurationNanos)
}

// fill completes p's derived fields from its data.
func (p *Profile) fill() error {
	if p.ID == "" {
		return fmt.Errorf("fakedd: profile without an ID")
	}
	if strings.ContainsAny(p.ID, "/?#% \t\n") {
		// The id is a URL path segment and a ZIP entry name.
		return fmt.Errorf("fakedd: profile ID %q has characters a URL path segment cannot hold", p.ID)
	}
	parsed, err := parseProfile(p.Data)
	if err != nil {
		return fmt.Errorf("fakedd: profile %s: %w", p.ID, err)
	}
	if p.CPUCores == 0 {
		p.CPUCores = cpuCores(parsed)
	}
	if p.DurationNanos == 0 {
		p.DurationNanos = parsed.DurationNanos
	}
	if p.Timestamp.IsZero() && parsed.TimeNanos != 0 {
		p.Timestamp = time.Unix(0, parsed.TimeNanos).UTC()
	}
	if p.EventID == "" {
		p.EventID = eventID(p.ID)
	}
	return nil
}

// eventID derives a stable event id from a profile id, so the list answer
// is the same across runs (and differs from the profile id, as Datadog's do).
func eventID(id string) string {
	sum := sha256.Sum256([]byte("fakedd event " + id))
	return "AQAAAZ" + hex.EncodeToString(sum[:12])
}

// changed returns the profile as served in generation gen > 0: a new id
// (<id>-g<gen>), a timestamp gen minutes later, and every sample value
// multiplied by gen+1, so that a fetcher's merged output is different
// whatever it keeps of the profile (ids, comments or call-edge weights).
func (p *Profile) changed(gen int) (*Profile, error) {
	parsed, err := parseProfile(p.Data)
	if err != nil {
		return nil, err
	}
	for _, s := range parsed.Sample {
		for i := range s.Value {
			s.Value[i] *= int64(gen + 1)
		}
	}
	parsed.TimeNanos += int64(gen) * int64(time.Minute)
	data, err := encodeProfile(parsed, compressionOf(p.Data))
	if err != nil {
		return nil, err
	}
	q := &Profile{
		ID:      fmt.Sprintf("%s-g%d", p.ID, gen),
		Data:    data,
		Service: p.Service,
		Tags:    p.Tags,
	}
	if err := q.fill(); err != nil {
		return nil, err
	}
	return q, nil
}

// matches tells whether a (validated) query selects p. Terms are
// whitespace-separated key:value pairs; runtime:go and language:go match
// every profile (the fake serves Go profiles only), service:NAME matches
// p.Service when set, other keys match p.Tags when p has that key. A term
// -key:value excludes. Free text without a colon is ignored.
func (p *Profile) matches(query string) bool {
	for _, term := range strings.Fields(query) {
		neg := strings.HasPrefix(term, "-")
		term = strings.TrimPrefix(term, "-")
		key, val, ok := strings.Cut(term, ":")
		if !ok {
			continue
		}
		var has, eq bool
		switch {
		case term == "runtime:go" || term == "language:go":
			has, eq = true, true
		case key == "service":
			has, eq = p.Service != "", p.Service == val
		default:
			for _, tag := range p.Tags {
				k, v, _ := strings.Cut(tag, ":")
				if k == key {
					has = true
					eq = eq || v == val
				}
			}
		}
		if neg && has && eq {
			return false
		}
		if !neg && has && !eq {
			return false
		}
	}
	return true
}

// queryService is the service a query names, for the list answer.
func queryService(query string) string {
	for _, term := range strings.Fields(query) {
		if v, ok := strings.CutPrefix(term, "service:"); ok {
			return v
		}
	}
	return ""
}

// profileExts are stripped from file names to make ids: grpc.pprof,
// cpu.pb.gz and x.prof.zst have ids grpc, cpu and x.
var profileExts = []string{".gz", ".zst", ".zstd", ".pprof", ".pb", ".prof", ".proto"}

func idFromFileName(name string) string {
	for {
		stripped := false
		for _, ext := range profileExts {
			if strings.HasSuffix(name, ext) && len(name) > len(ext) {
				name = strings.TrimSuffix(name, ext)
				stripped = true
			}
		}
		if !stripped {
			break
		}
	}
	if ext := filepath.Ext(name); ext != "" && len(ext) < len(name) {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// dirCache keeps the profiles read from a directory, re-read on every
// request but parsed again only when a file's size or mtime changes, so a
// test may drop new profiles into the directory while the server runs.
type dirCache struct {
	dir     string
	entries map[string]dirEntry // by path
}

type dirEntry struct {
	size    int64
	mtime   time.Time
	profile *Profile
	err     error
}

// load lists dir: files directly in it are profiles matching any service;
// files in a subdirectory NAME are profiles of service NAME. Hidden files
// are skipped. Files that are not profiles are reported through logf once
// and skipped.
func (c *dirCache) load(logf func(string, ...any)) ([]*Profile, error) {
	if c.entries == nil {
		c.entries = map[string]dirEntry{}
	}
	top, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	type file struct{ path, service string }
	var files []file
	for _, e := range top {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(c.dir, e.Name())
		if !e.IsDir() {
			files = append(files, file{path, ""})
			continue
		}
		sub, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, s := range sub {
			if !s.IsDir() && !strings.HasPrefix(s.Name(), ".") {
				files = append(files, file{filepath.Join(path, s.Name()), e.Name()})
			}
		}
	}
	seen := map[string]bool{}
	var out []*Profile
	for _, f := range files {
		seen[f.path] = true
		st, err := os.Stat(f.path)
		if err != nil {
			continue // removed meanwhile
		}
		e, ok := c.entries[f.path]
		if !ok || e.size != st.Size() || !e.mtime.Equal(st.ModTime()) {
			e = dirEntry{size: st.Size(), mtime: st.ModTime()}
			data, err := os.ReadFile(f.path)
			if err == nil {
				p := &Profile{ID: idFromFileName(filepath.Base(f.path)), Data: data, Service: f.service}
				err = p.fill()
				e.profile = p
			}
			e.err = err
			if err != nil {
				e.profile = nil
				logf("fakedd: skipping %s: %v", f.path, err)
			}
			c.entries[f.path] = e
		}
		if e.profile != nil {
			out = append(out, e.profile)
		}
	}
	for path := range c.entries {
		if !seen[path] {
			delete(c.entries, path)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// SyntheticCPUProfile makes a small, valid Go CPU profile (gzip, as
// runtime/pprof writes it) whose CPU use is cores over duration, spread over
// a few call stacks of made-up functions. seed varies the functions' names
// and the weights, so profiles of different seeds differ.
func SyntheticCPUProfile(seed int, cores float64, duration time.Duration) []byte {
	p := syntheticCPUProfile(seed, cores, duration)
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		panic(fmt.Sprintf("fakedd: writing a synthetic profile: %v", err))
	}
	return buf.Bytes()
}

func syntheticCPUProfile(seed int, cores float64, duration time.Duration) *profile.Profile {
	const period = 10_000_000 // 100 Hz, as Go's runtime samples
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "samples", Unit: "count"},
			{Type: "cpu", Unit: "nanoseconds"},
		},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        period,
		DurationNanos: int64(duration),
		// A fixed time, so equal arguments give equal bytes.
		TimeNanos: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() + int64(seed)*int64(time.Second),
	}
	m := &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x800000, File: "/app/server", HasFunctions: true}
	p.Mapping = []*profile.Mapping{m}
	fn := func(name string, line int64) *profile.Function {
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: "app/work.go", StartLine: line}
		p.Function = append(p.Function, f)
		return f
	}
	loc := func(f *profile.Function, line int64) *profile.Location {
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: 0x401000 + uint64(len(p.Location))*0x40,
			Line: []profile.Line{{Function: f, Line: line}}}
		p.Location = append(p.Location, l)
		return l
	}
	pkg := fmt.Sprintf("example.com/synthetic%d", seed)
	mainFn := fn("main.main", 10)
	run := fn(pkg+".Run", 20)
	leaves := []*profile.Function{
		fn(pkg+".parse", 40), fn(pkg+".hash", 60), fn(pkg+".(*codec).Encode", 80), fn(pkg+".sort", 100),
	}
	mainLoc, runLoc := loc(mainFn, 12), loc(run, 25)
	total := int64(cores * float64(duration))
	weights := []int64{int64(4 + seed%3), 3, 2, 1}
	var wsum int64
	for _, w := range weights {
		wsum += w
	}
	var used int64
	for i, leaf := range leaves {
		v := total * weights[i] / wsum
		if i == len(leaves)-1 {
			v = total - used // the rounding remainder, so the sum is exact
		}
		used += v
		v -= v % period // whole samples
		p.Sample = append(p.Sample, &profile.Sample{
			Location: []*profile.Location{loc(leaf, leaf.StartLine+3), runLoc, mainLoc},
			Value:    []int64{v / period, v},
		})
	}
	return p
}
