// Command refmerge is the oracle for pgofetch's merge: it does to a list of
// profile files exactly what Datadog's datadog-pgo does after download, with
// github.com/google/pprof/profile, and writes the result uncompressed.
//
//	refmerge [-noinline=false] [-gzip] [-weights W,...] [-normalize] FILE... > merged.pb
//
// Steps: parse each file (profile.ParseData: gzip or raw protobuf; zstd is
// decompressed here first, as pgofetch accepts it), drop every sample's
// string labels, scale it with profile.Scale (by its weight, -weights
// giving one per file; with -normalize by weight * 1e9 / total, total
// being the sum of its values of samples/count or cpu/nanoseconds, else of
// its first sample type, when positive), fold the profiles in pairwise in argument order with
// profile.Merge (a single input is not re-merged), apply the no-inline
// rename, write with profile.WriteUncompressed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
	"github.com/klauspost/compress/zstd"
)

var noInlineFuncs = []string{
	"google.golang.org/grpc/internal/transport.(*loopyWriter).processData",
	"runtime.gopark",
}

func main() {
	noinline := flag.Bool("noinline", true, "apply the no-inline rename")
	gz := flag.Bool("gzip", false, "write gzip-compressed, as profile.Write does")
	weightList := flag.String("weights", "", "comma-separated weights, one per FILE (default all 1)")
	normalize := flag.Bool("normalize", false, "scale each profile to a total of 1e9 before its weight")
	flag.Parse()
	weights, err := parseWeights(*weightList, flag.NArg())
	if flag.NArg() == 0 || err != nil {
		fmt.Fprintln(os.Stderr, "usage: refmerge [-noinline=false] [-gzip] [-weights W,...] [-normalize] FILE...", err)
		os.Exit(2)
	}
	var merged *profile.Profile
	for i, name := range flag.Args() {
		p, err := parseFile(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "refmerge: %s: %v\n", name, err)
			os.Exit(1)
		}
		for _, s := range p.Sample {
			s.Label = nil
		}
		r := ratio(p, weights[i], *normalize)
		if outOfRange(p, r) {
			fmt.Fprintf(os.Stderr, "refmerge: %s: scaling by %v takes a value out of int64's range\n", name, r)
			os.Exit(3)
		}
		p.Scale(r)
		if merged == nil {
			merged = p
			continue
		}
		if merged, err = profile.Merge([]*profile.Profile{merged, p}); err != nil {
			fmt.Fprintf(os.Stderr, "refmerge: merging %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	if *noinline {
		renameNoInline(merged)
	}
	write := merged.WriteUncompressed
	if *gz {
		write = merged.Write
	}
	if err := write(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "refmerge: %v\n", err)
		os.Exit(1)
	}
}

func parseWeights(list string, n int) ([]float64, error) {
	ws := make([]float64, n)
	for i := range ws {
		ws[i] = 1
	}
	if list == "" {
		return ws, nil
	}
	parts := strings.Split(list, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("%d weights for %d files", len(parts), n)
	}
	for i, s := range parts {
		w, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	return ws, nil
}

// ratio is what p is scaled by: its weight, or with normalize its weight
// times 1e9 over its total (when positive), computed in that order.
func ratio(p *profile.Profile, weight float64, normalize bool) float64 {
	if !normalize || len(p.SampleType) == 0 {
		return weight
	}
	idx := 0
	for i, st := range p.SampleType {
		if (st.Type == "samples" && st.Unit == "count") || (st.Type == "cpu" && st.Unit == "nanoseconds") {
			idx = i
			break
		}
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[idx]
	}
	if total <= 0 {
		return weight
	}
	return weight * 1e9 / float64(total)
}

// outOfRange says whether Scale(r) would round a value out of int64's
// range, where Go's conversion gives whatever the CPU does.
func outOfRange(p *profile.Profile, r float64) bool {
	for _, s := range p.Sample {
		for _, v := range s.Value {
			if x := math.Round(float64(v) * r); r != 1 && !(x >= -0x1p63 && x < 0x1p63) {
				return true
			}
		}
	}
	return false
}

func parseFile(name string) (*profile.Profile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
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

// renameNoInline renames the leaf function of samples whose leaf is one of
// noInlineFuncs, as datadog-pgo's ApplyNoInlineHack does: the Function is
// shared, so every use of it is renamed, once.
func renameNoInline(p *profile.Profile) {
	for _, s := range p.Sample {
		if len(s.Location) == 0 || len(s.Location[0].Line) == 0 {
			continue
		}
		fn := s.Location[0].Line[0].Function
		for _, name := range noInlineFuncs {
			if fn.Name == name {
				fn.Name = "DO NOT INLINE: " + fn.Name
				break
			}
		}
	}
}
