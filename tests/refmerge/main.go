// Command refmerge is the oracle for pgofetch's merge: it does to a list of
// profile files exactly what Datadog's datadog-pgo does after download, with
// github.com/google/pprof/profile, and writes the result uncompressed.
//
//	refmerge [-noinline=false] [-gzip] FILE... > merged.pb
//
// Steps: parse each file (profile.ParseData: gzip or raw protobuf; zstd is
// decompressed here first, as pgofetch accepts it), drop every sample's
// string labels, fold the profiles in pairwise in argument order with
// profile.Merge (a single input is not re-merged), apply the no-inline
// rename, write with profile.WriteUncompressed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

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
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: refmerge [-noinline=false] [-gzip] FILE...")
		os.Exit(2)
	}
	var merged *profile.Profile
	for _, name := range flag.Args() {
		p, err := parseFile(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "refmerge: %s: %v\n", name, err)
			os.Exit(1)
		}
		for _, s := range p.Sample {
			s.Label = nil
		}
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
