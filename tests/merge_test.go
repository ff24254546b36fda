package tests

import (
	"archive/zip"
	"bytes"
	endian "encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/gen"
	"pgofetch/tests/internal/testenv"
)

// mergeCase is one differential run: pgofetch reads ins (its -in
// arguments), refmerge reads files (the same profiles, one file each).
type mergeCase struct {
	ins      []string
	files    []string
	noinline bool
	what     string // how to reproduce, printed on failure
}

// differ runs pgofetch and refmerge on the same profiles and requires
// pgofetch's DEST, decompressed, to be byte-identical to refmerge's output.
func differ(t *testing.T, c mergeCase) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "default.pgo")
	args := []string{"-trim=false", "-comment=false", "-fail"}
	if !c.noinline {
		args = append(args, "-noinline=false")
	}
	for _, in := range c.ins {
		args = append(args, "-in", in)
	}
	args = append(args, dest)
	r := pgofetch(t, args...)
	if r.code != 0 {
		t.Fatalf("%s: pgofetch failed\n%s", c.what, r)
	}
	if r.stdout != "" {
		t.Errorf("%s: stdout not empty: %q", c.what, r.stdout)
	}
	want := oracle(t, c.noinline, c.files...)
	got := gunzip(t, readFile(t, dest))
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s: DEST differs from refmerge's output\n%s", c.what, explain(t, got, want))
}

// explain says where two encoded profiles differ: the first differing byte,
// the first differing line of their decoded forms, and where both are kept
// for `go tool pprof -raw`.
func explain(t *testing.T, got, want []byte) string {
	var b strings.Builder
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	fmt.Fprintf(&b, "first difference at byte %d (pgofetch %d bytes, refmerge %d bytes)\n", i, len(got), len(want))
	lo := max(0, i-8)
	fmt.Fprintf(&b, "  pgofetch[%d:]: % x\n  refmerge[%d:]: % x\n", lo, got[lo:min(len(got), i+16)], lo, want[lo:min(len(want), i+16)])
	gp, err := profile.ParseData(got)
	if err != nil {
		fmt.Fprintf(&b, "pgofetch's output does not parse: %v\n", err)
	} else if wp, err := profile.ParseData(want); err == nil {
		gd, wd := gen.Dump(gp), gen.Dump(wp)
		if gd == wd {
			b.WriteString("decoded, both are the same profile: the encoding differs (order, packing, string table)\n")
		} else {
			b.WriteString("decoded, first differing line (got = pgofetch, want = refmerge):\n" + gen.FirstDiff(gd, wd) + "\n")
		}
	}
	if dir, err := os.MkdirTemp("", "pgofetch-mismatch-"); err == nil {
		g, w := filepath.Join(dir, "pgofetch.pb"), filepath.Join(dir, "refmerge.pb")
		os.WriteFile(g, got, 0o644)
		os.WriteFile(w, want, 0o644)
		fmt.Fprintf(&b, "kept: diff <(go tool pprof -raw %s) <(go tool pprof -raw %s)", g, w)
	}
	return b.String()
}

var extOf = map[gen.Compression]string{gen.Raw: ".pb", gen.Gzip: ".pb.gz", gen.Zstd: ".pb.zst"}

// writeSet writes a generated set's files into dir and returns their paths
// (twice: pgofetch's -in arguments and refmerge's files, here the same).
func writeSet(t *testing.T, dir string, s *gen.Set) (ins, files []string) {
	for i, f := range s.Files {
		p := writeFile(t, filepath.Join(dir, fmt.Sprintf("p%d%s", i, extOf[f.Style.Compression])), f.Data)
		ins = append(ins, p)
		files = append(files, p)
	}
	return ins, files
}

// The generated sets: every one merged by pgofetch exactly as by refmerge.
func TestMergeGenerated(t *testing.T) {
	requireBinary(t)
	for _, c := range gen.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := gen.NewSet(c.Seed, c.Options)
			ins, files := writeSet(t, t.TempDir(), s)
			noinline := c.Seed%4 != 0 // every fourth set without the rename
			differ(t, mergeCase{ins: ins, files: files, noinline: noinline,
				what: fmt.Sprintf("gen.NewSet(%d, %+v), %d profiles %s, noinline=%v", c.Seed, c.Options, len(files), describe(s), noinline)})
		})
	}
}

// describe lists each file's compression and encoding style, briefly.
func describe(s *gen.Set) string {
	var parts []string
	for _, f := range s.Files {
		parts = append(parts, fmt.Sprintf("%s/top%d/sub%d/pack%d", f.Style.Compression, f.Style.Top, f.Style.Sub, f.Style.Packing))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Real CPU profiles: made during the test by runtime/pprof, and the
// production profile from Datadog's tool; alone, in pairs, in threes,
// repeated, and all together.
func TestMergeReal(t *testing.T) {
	requireBinary(t)
	ps := realProfiles(t)
	r1, r2, r3, grpc := ps[0], ps[1], ps[2], ps[3]
	cases := map[string][]string{
		"real1":           {r1},
		"real2":           {r2},
		"grpc":            {grpc},
		"real1+real2":     {r1, r2},
		"real1+real3":     {r1, r3},
		"real2+real1":     {r2, r1},
		"grpc+real1":      {grpc, r1},
		"real1+real2+r3":  {r1, r2, r3},
		"real1 twice":     {r1, r1},
		"grpc twice":      {grpc, grpc},
		"real2 thrice":    {r2, r2, r2},
		"all":             {r1, r2, r3, grpc},
		"all, backwards":  {grpc, r3, r2, r1},
		"grpc+real1+grpc": {grpc, r1, grpc},
	}
	for name, files := range cases {
		for _, noinline := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/noinline=%v", name, noinline), func(t *testing.T) {
				t.Parallel()
				differ(t, mergeCase{ins: files, files: files, noinline: noinline,
					what: fmt.Sprintf("%s (noinline=%v)", strings.Join(files, " "), noinline)})
			})
		}
	}
}

// The rename applies: the production profile's 17 samples whose leaf is
// grpc's processData end up on the renamed function (a check of the
// oracle's premise, independent of byte equality).
func TestNoInlineRenameReal(t *testing.T) {
	requireBinary(t)
	grpc := realProfiles(t)[3]
	dest := filepath.Join(t.TempDir(), "default.pgo")
	r := pgofetch(t, "-trim=false", "-comment=false", "-fail", "-in", grpc, dest)
	if r.code != 0 {
		t.Fatalf("pgofetch failed\n%s", r)
	}
	p, err := profile.ParseData(readFile(t, dest))
	if err != nil {
		t.Fatalf("DEST does not parse: %v", err)
	}
	n := 0
	for _, s := range p.Sample {
		if len(s.Location) > 0 && len(s.Location[0].Line) > 0 && s.Location[0].Line[0].Function.Name == "DO NOT INLINE: "+gen.GrpcProcessData {
			n++
		}
		for _, l := range s.Location {
			for _, ln := range l.Line {
				if ln.Function.Name == gen.GrpcProcessData {
					t.Fatalf("a sample still has %s un-renamed", gen.GrpcProcessData)
				}
			}
		}
	}
	if n != 17 {
		t.Errorf("%d samples have the renamed leaf, want 17", n)
	}
}

// ZIP archives of profiles: one -in, entries merged in archive order,
// stored and deflated entries, a directory entry skipped, and ZIPs mixed
// with plain files.
func TestMergeZip(t *testing.T) {
	requireBinary(t)
	for seed := uint64(7000); seed < 7025; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			s := gen.NewSet(seed, gen.Options{})
			dir := t.TempDir()
			_, files := writeSet(t, dir, s)
			var entries []gen.ZipEntry
			for i, f := range s.Files {
				if seed%3 == 0 && i == 1 {
					entries = append(entries, gen.ZipEntry{Name: "profiles/", Dir: true})
				}
				method := zip.Store
				if (int(seed)+i)%2 == 0 {
					method = zip.Deflate
				}
				entries = append(entries, gen.ZipEntry{Name: fmt.Sprintf("profiles/cpu-%d.pprof", i), Data: f.Data, Method: method})
			}
			z := writeFile(t, filepath.Join(dir, "profiles.zip"), gen.Zip(entries))
			ins := []string{z}
			if seed%2 == 1 { // the ZIP between two plain files
				extra := gen.NewSet(seed+100, gen.Options{MaxProfiles: 1}).Files[0]
				// same sample and period types as the set, or the merge fails
				extra.Profile.SampleType = s.Files[0].Profile.SampleType
				extra.Profile.PeriodType = s.Files[0].Profile.PeriodType
				for i := range extra.Profile.Sample {
					extra.Profile.Sample[i].Value = make([]int64, len(extra.Profile.SampleType))
					for j := range extra.Profile.Sample[i].Value {
						extra.Profile.Sample[i].Value[j] = int64(i + j + 1)
					}
				}
				e := writeFile(t, filepath.Join(dir, "extra.pb.gz"), gen.Gzipped(gen.Plain(extra.Profile)))
				ins = []string{e, z, e}
				files = append(append([]string{e}, files...), e)
			}
			differ(t, mergeCase{ins: ins, files: files, noinline: true,
				what: fmt.Sprintf("ZIP of gen.NewSet(%d) %s, -in %s", seed, describe(s), strings.Join(ins, " -in "))})
		})
	}
}

// Encodings that get a test of their own: each decompresses to a profile
// both tools must read the same.
func TestMergeEncodings(t *testing.T) {
	requireBinary(t)
	base := gen.NewSet(42, gen.Options{MaxProfiles: 1}).Files[0]
	raw := base.Raw
	cases := map[string][]byte{
		"gzip with name, comment and extra fields": gen.Compress(raw, &gen.Style{Compression: gen.Gzip, GzipHeader: true}, rng(1)),
		"gzip in three members":                    gen.Compress(raw, &gen.Style{Compression: gen.Gzip, GzipMembers: 3}, rng(2)),
		"zstd in three frames":                     gen.Compress(raw, &gen.Style{Compression: gen.Zstd, ZstdFrames: 3}, rng(3)),
		"zstd after a skippable frame":             gen.Compress(raw, &gen.Style{Compression: gen.Zstd, ZstdSkippable: true}, rng(4)),
		"raw":                                      raw,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := writeFile(t, filepath.Join(dir, "in.prof"), data)
			orc := writeFile(t, filepath.Join(dir, "oracle.pb"), raw) // refmerge reads the plain protobuf
			differ(t, mergeCase{ins: []string{in, in}, files: []string{orc, orc}, noinline: true, what: name + " (twice)"})
		})
	}
}

// A ZIP whose two entries share their bytes, as a crafted archive may:
// handing the first entry over must not spoil the second (pgofetch gives
// an entry's pages back once it is handed over, but only when no other
// entry uses them). The real profile spans many pages.
func TestMergeZipSharedEntries(t *testing.T) {
	requireBinary(t)
	real := testenv.RealProfile(t)
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	one := gen.Zip([]gen.ZipEntry{{Name: "a.pprof", Data: data, Method: zip.Store}})
	// The end record (no comment) is the last 22 bytes; the one central
	// record, before it, is copied under the name b.pprof.
	end := one[len(one)-22:]
	cdSize := endian.LittleEndian.Uint32(end[12:])
	cdOff := endian.LittleEndian.Uint32(end[16:])
	rec := one[cdOff : cdOff+cdSize]
	dup := bytes.Replace(append([]byte(nil), rec...), []byte("a.pprof"), []byte("b.pprof"), 1)
	var z bytes.Buffer
	z.Write(one[:cdOff+cdSize])
	z.Write(dup)
	tail := append([]byte(nil), end...)
	endian.LittleEndian.PutUint16(tail[8:], 2)
	endian.LittleEndian.PutUint16(tail[10:], 2)
	endian.LittleEndian.PutUint32(tail[12:], 2*cdSize)
	z.Write(tail)
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "shared.zip"), z.Bytes())
	differ(t, mergeCase{ins: []string{in}, files: []string{real, real}, noinline: true,
		what: "ZIP of two entries sharing the bytes of grpc-anon.pprof"})
}
