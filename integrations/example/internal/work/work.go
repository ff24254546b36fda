// Package work is the CPU-heavy workload shared by the example's two main
// packages. It is written to give Go's profile-guided optimisation something
// to act on, so that a build with a profile of it differs from one without:
//
//   - Interface calls in hot loops (Codec.Encode, Scorer.Score), nearly always
//     to one concrete type: PGO devirtualises them (a type check plus a
//     direct, inlinable call).
//   - Functions a little over the compiler's normal inlining budget (80
//     nodes) called from hot loops (parseRecord, checksum, insertionSort,
//     strconv's formatting): PGO's hot-call-site budget (2000) inlines
//     them at the hot sites only.
//
// Everything is deterministic: a unit of work with a given seed always
// returns the same checksum, with or without PGO, which the tests can use to
// check that an optimised binary still computes the same thing.
package work

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
)

// Record is one parsed input line.
type Record struct {
	Name  []byte
	ID    uint64
	Score int64
	Tags  [4][]byte
	NTags int
	Ratio float64
}

// Codec turns a record into bytes. Two implementations exist; the hot path
// uses jsonCodec almost always, which is what PGO's devirtualisation needs
// to see in the profile.
type Codec interface {
	Encode(dst []byte, r *Record) []byte
}

// The codecs' work is done in the methods' own bodies, not in helpers they
// call: Go's PGO takes a call edge only from a sample's two leaf-most frames,
// so the profile shows the hot interface call (Unit -> jsonCodec.Encode) only
// when samples land in Encode itself.
type jsonCodec struct{}

// Encode writes r as a JSON object, escaping strings by hand.
func (jsonCodec) Encode(dst []byte, r *Record) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendQuoted(dst, r.Name)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, r.ID, 10)
	dst = append(dst, `,"score":`...)
	dst = strconv.AppendInt(dst, r.Score, 10)
	dst = append(dst, `,"ratio":`...)
	dst = strconv.AppendFloat(dst, r.Ratio, 'g', 6, 64)
	dst = append(dst, `,"tags":[`...)
	for i := 0; i < r.NTags; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendQuoted(dst, r.Tags[i])
	}
	return append(dst, "]}"...)
}

type kvCodec struct{}

// Encode writes r as key=value pairs, the rarely used encoding.
func (kvCodec) Encode(dst []byte, r *Record) []byte {
	dst = append(dst, "name="...)
	dst = append(dst, r.Name...)
	dst = append(dst, " id="...)
	dst = strconv.AppendUint(dst, r.ID, 10)
	dst = append(dst, " score="...)
	dst = strconv.AppendInt(dst, r.Score, 10)
	for i := 0; i < r.NTags; i++ {
		dst = append(dst, " tag="...)
		dst = append(dst, r.Tags[i]...)
	}
	return dst
}

// Scorer ranks records; again one implementation dominates.
type Scorer interface {
	Score(r *Record) int64
}

type weightedScorer struct{ weight int64 }

// Score weighs the record's score by a hash of its name and tags, a loop of
// its own so that samples land in Score (see the note on the codecs).
func (s weightedScorer) Score(r *Record) int64 {
	var h uint32 = 2166136261
	for _, c := range r.Name {
		h = (h ^ uint32(c)) * 16777619
	}
	for i := 0; i < r.NTags; i++ {
		for _, c := range r.Tags[i] {
			h = (h ^ uint32(c)) * 16777619
		}
	}
	return r.Score*s.weight + int64(h%97) + int64(r.ID%89)
}

type flatScorer struct{}

func (flatScorer) Score(r *Record) int64 { return r.Score }

var errSyntax = errors.New("work: malformed record")

// parseRecord parses a line of the form
//
//	name=NAME;id=N;score=N;ratio=F;tag=T;tag=T
//
// into r without allocating (r's slices point into line).
func parseRecord(line []byte, r *Record) error {
	*r = Record{}
	for len(line) > 0 {
		end := 0
		for end < len(line) && line[end] != ';' {
			end++
		}
		field := line[:end]
		if end < len(line) {
			end++
		}
		line = line[end:]
		eq := -1
		for i, c := range field {
			if c == '=' {
				eq = i
				break
			}
		}
		if eq <= 0 {
			return errSyntax
		}
		key, val := field[:eq], field[eq+1:]
		switch string(key) {
		case "name":
			r.Name = val
		case "id":
			n, ok := parseUint(val)
			if !ok {
				return errSyntax
			}
			r.ID = n
		case "score":
			neg := len(val) > 0 && val[0] == '-'
			if neg {
				val = val[1:]
			}
			n, ok := parseUint(val)
			if !ok {
				return errSyntax
			}
			r.Score = int64(n)
			if neg {
				r.Score = -r.Score
			}
		case "ratio":
			f, err := strconv.ParseFloat(string(val), 64)
			if err != nil {
				return errSyntax
			}
			r.Ratio = f
		case "tag":
			if r.NTags < len(r.Tags) {
				r.Tags[r.NTags] = val
				r.NTags++
			}
		default:
			return errSyntax
		}
	}
	return nil
}

func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func appendQuoted(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// checksum is FNV-1a with a final avalanche, over b.
func checksum(h uint64, b []byte) uint64 {
	if h == 0 {
		h = 14695981039346656037
	}
	for len(b) >= 4 {
		h ^= uint64(b[0])
		h *= 1099511628211
		h ^= uint64(b[1])
		h *= 1099511628211
		h ^= uint64(b[2])
		h *= 1099511628211
		h ^= uint64(b[3])
		h *= 1099511628211
		b = b[4:]
	}
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// insertionSort sorts the records' indexes by score, descending, then by id.
// Batches are small, where insertion sort beats sort.Slice and, unlike it,
// costs no closure call per comparison.
func insertionSort(idx []int, scores []int64, recs []Record) {
	for i := 1; i < len(idx); i++ {
		cur := idx[i]
		j := i - 1
		for j >= 0 {
			prev := idx[j]
			if scores[prev] > scores[cur] ||
				(scores[prev] == scores[cur] && recs[prev].ID <= recs[cur].ID) {
				break
			}
			idx[j+1] = prev
			j--
		}
		idx[j+1] = cur
	}
}

// BatchSize is the number of records in one unit of work.
const BatchSize = 64

// State is one worker's reusable buffers, so the steady state allocates
// nothing and the profile shows computation, not the garbage collector.
type State struct {
	lines  [BatchSize][]byte
	recs   [BatchSize]Record
	scores [BatchSize]int64
	idx    [BatchSize]int
	out    []byte
	codecs []Codec
	scorer []Scorer
}

// NewState makes a worker's state.
func NewState() *State {
	s := &State{out: make([]byte, 0, 16<<10)}
	// One kvCodec in 16 and one flatScorer in 32: the call sites stay
	// polymorphic (so the compiler cannot devirtualise them statically)
	// while the profile shows which type is hot.
	for i := 0; i < 16; i++ {
		var c Codec = jsonCodec{}
		if i == 15 {
			c = kvCodec{}
		}
		s.codecs = append(s.codecs, c)
	}
	for i := 0; i < 32; i++ {
		var sc Scorer = weightedScorer{weight: 3}
		if i == 31 {
			sc = flatScorer{}
		}
		s.scorer = append(s.scorer, sc)
	}
	return s
}

var names = []string{"alpha", "bravo", "charlie", "delta", "echo", "fox\"trot", "golf", "hotel\\india"}

// Unit runs one unit of work: make BatchSize input lines from seed, parse,
// score and sort them, encode them, and return a checksum of the output.
func (s *State) Unit(seed uint64) uint64 {
	x := seed*0x9e3779b97f4a7c15 + 1
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	for i := range s.lines {
		l := s.lines[i][:0]
		l = append(l, "name="...)
		l = append(l, names[next()%uint64(len(names))]...)
		l = append(l, ";id="...)
		l = strconv.AppendUint(l, next()%1000000, 10)
		l = append(l, ";score="...)
		l = strconv.AppendInt(l, int64(next()%2001)-1000, 10)
		l = append(l, ";ratio=0."...)
		l = strconv.AppendUint(l, next()%1000, 10)
		for t := next() % 4; t > 0; t-- {
			l = append(l, ";tag=t"...)
			l = strconv.AppendUint(l, next()%50, 10)
		}
		s.lines[i] = l
	}
	var sum uint64
	for i := range s.lines {
		if err := parseRecord(s.lines[i], &s.recs[i]); err != nil {
			panic(err) // the generator above only writes valid lines
		}
		s.scores[i] = s.scorer[(seed+uint64(i))%uint64(len(s.scorer))].Score(&s.recs[i])
		s.idx[i] = i
		sum = checksum(sum, s.lines[i])
	}
	insertionSort(s.idx[:], s.scores[:], s.recs[:])
	s.out = s.out[:0]
	for n, i := range s.idx {
		c := s.codecs[(seed+uint64(n))%uint64(len(s.codecs))]
		s.out = c.Encode(s.out, &s.recs[i])
		s.out = append(s.out, '\n')
	}
	return checksum(sum, s.out)
}

// Batch runs iterations units of work on workers goroutines and returns the
// combined checksum (independent of the number of workers).
func Batch(iterations, workers int) uint64 {
	if workers < 1 {
		workers = 1
	}
	var total atomic.Uint64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := NewState()
			var local uint64
			for i := w; i < iterations; i += workers {
				// Sum, not XOR or a chain: the result must not
				// depend on which worker ran which unit.
				local += s.Unit(uint64(i))
			}
			total.Add(local)
		}(w)
	}
	wg.Wait()
	return total.Load()
}

// Run keeps workers goroutines busy until ctx is done, and returns the
// number of units of work completed.
func Run(ctx context.Context, workers int) uint64 {
	if workers < 1 {
		workers = 1
	}
	var units atomic.Uint64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := NewState()
			var local, n uint64
			for i := uint64(w); ; i++ {
				// Checking ctx every 64 units keeps the check
				// out of the profile without delaying shutdown
				// (a unit takes microseconds).
				if n%64 == 0 && ctx.Err() != nil {
					sink.Add(local)
					units.Add(n)
					return
				}
				local += s.Unit(i)
				n++
			}
		}(w)
	}
	wg.Wait()
	return units.Load()
}

// sink keeps the compiler from discarding Run's results.
var sink atomic.Uint64
