package tests

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/gen"
)

// weighted is one differential run of -weight and -normalize: pgofetch reads
// args (its -weight and -in flags, in order), refmerge reads files with
// weights (one each: the weight in force where the file's source stood).
type weighted struct {
	args      []string
	files     []string
	weights   []string
	normalize bool
	what      string
}

// differWeighted requires pgofetch's DEST, decompressed, to equal byte for
// byte what refmerge writes after profile.Scale of each file by its weight
// (and -normalize's ratio) and Merge.
func differWeighted(t *testing.T, c weighted) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "default.pgo")
	args := []string{"-trim=false", "-comment=false", "-fail", "-noinline=false"}
	orc := []string{"-noinline=false", "-weights", strings.Join(c.weights, ",")}
	if c.normalize {
		args = append(args, "-normalize")
		orc = append(orc, "-normalize")
	}
	args = append(append(args, c.args...), dest)
	r := pgofetch(t, args...)
	orc = append(orc, c.files...)
	if r.code == 4 && strings.Contains(r.stderr, "out of int64's range") {
		// pprof's Scale would wrap: refused, as the oracle must agree
		t.Logf("%s: a value out of range, refused by both", c.what)
		if o := runBin(t, refmerge(t), orc...); o.code != 3 {
			t.Errorf("%s: pgofetch refused a value out of range, refmerge did not\n%s\n%s", c.what, r, o)
		}
		return
	}
	if r.code != 0 {
		t.Fatalf("%s: pgofetch %s failed\n%s", c.what, strings.Join(args, " "), r)
	}
	want := runRefmerge(t, orc...)
	got := gunzip(t, readFile(t, dest))
	if !bytes.Equal(got, want) {
		t.Errorf("%s: DEST differs from refmerge's output\n%s", c.what, explain(t, got, want))
	}
}

func runRefmerge(t *testing.T, args ...string) []byte {
	t.Helper()
	r := runBin(t, refmerge(t), args...)
	if r.code != 0 {
		t.Fatalf("refmerge %s failed\n%s", strings.Join(args, " "), r)
	}
	return []byte(r.stdout)
}

// Fractional, whole, tiny, huge and zero weights, one per source; the
// first source always weighs something, so the run is not a usage error.
var someWeights = []string{"0.5", "2", "1", "0.1", "3", "0.3333333333333333", "0", "1.5", "1e-3", "1000", "0.75", "7"}

func weightsFor(seed uint64, n int) []string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = someWeights[(int(seed)*5+i*7)%len(someWeights)]
	}
	if ws[0] == "0" {
		ws[0] = "0.25"
	}
	return ws
}

// Every source with its own -weight, with and without -normalize.
func weightedArgs(files, weights []string) []string {
	var args []string
	for i, f := range files {
		args = append(args, "-weight", weights[i], "-in", f)
	}
	return args
}

func TestWeightGenerated(t *testing.T) {
	requireBinary(t)
	for i, c := range gen.Cases() {
		if i%4 != 0 && !strings.HasPrefix(c.Name, "negative") && !strings.HasPrefix(c.Name, "single") {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := gen.NewSet(c.Seed, c.Options)
			_, files := writeSet(t, t.TempDir(), s)
			ws := weightsFor(c.Seed, len(files))
			normalize := c.Seed%3 == 0
			differWeighted(t, weighted{args: weightedArgs(files, ws), files: files, weights: ws, normalize: normalize,
				what: fmt.Sprintf("gen.NewSet(%d, %+v), weights %v, normalize=%v", c.Seed, c.Options, ws, normalize)})
		})
	}
}

// One -weight covers the sources that follow it up to the next one; a ZIP's
// profiles all take their source's weight.
func TestWeightSpans(t *testing.T) {
	requireBinary(t)
	s := gen.NewSet(77, gen.Options{MaxProfiles: 4})
	dir := t.TempDir()
	_, files := writeSet(t, dir, s)
	for len(files) < 3 {
		files = append(files, files[0])
	}
	a, b, c := files[0], files[1], files[2]
	var entries []gen.ZipEntry
	for i, f := range []string{b, c} {
		entries = append(entries, gen.ZipEntry{Name: fmt.Sprintf("p%d.pprof", i), Data: readFile(t, f)})
	}
	z := writeFile(t, filepath.Join(dir, "bc.zip"), gen.Zip(entries))
	for _, normalize := range []bool{false, true} {
		differWeighted(t, weighted{args: []string{"-in", a, "-weight", "2.5", "-in", b, "-in", c},
			files: []string{a, b, c}, weights: []string{"1", "2.5", "2.5"}, normalize: normalize,
			what: "-in a -weight 2.5 -in b -in c"})
		differWeighted(t, weighted{args: []string{"-weight", "0.2", "-in", a, "-weight", "3", "-in", z},
			files: []string{a, b, c}, weights: []string{"0.2", "3", "3"}, normalize: normalize,
			what: "-weight 0.2 -in a -weight 3 -in bc.zip"})
	}
}

// Real CPU profiles from runtime/pprof and the production one, weighted.
func TestWeightReal(t *testing.T) {
	requireBinary(t)
	ps := realProfiles(t)
	r1, r2, r3, grpc := ps[0], ps[1], ps[2], ps[3]
	cases := []struct {
		files, weights []string
	}{
		{[]string{r1}, []string{"0.5"}},
		{[]string{r1, r2}, []string{"0.5", "2"}},
		{[]string{r1, r2, r3}, []string{"1", "0.1", "3"}},
		{[]string{grpc, r1}, []string{"0.3333333333333333", "1.5"}},
		{[]string{r1, r2, r3, grpc}, []string{"0.75", "0", "1e-3", "7"}},
		{[]string{r2, r2}, []string{"1", "1"}},
	}
	for _, c := range cases {
		for _, normalize := range []bool{false, true} {
			name := fmt.Sprintf("%v/normalize=%v", c.weights, normalize)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				differWeighted(t, weighted{args: weightedArgs(c.files, c.weights), files: c.files, weights: c.weights,
					normalize: normalize, what: fmt.Sprintf("%v weights %v normalize=%v", c.files, c.weights, normalize)})
			})
		}
	}
}

// -normalize gives each profile the same total: a profile and itself
// scaled tenfold, normalized, weigh the same (a check of the premise,
// independent of the oracle).
func TestNormalizeEqualizes(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	p := gen.NewSet(5, gen.Options{MaxProfiles: 1}).Files[0].Profile
	small := writeFile(t, filepath.Join(dir, "small.pb"), gen.Plain(p))
	for i := range p.Sample {
		for j := range p.Sample[i].Value {
			p.Sample[i].Value[j] *= 10
		}
	}
	big := writeFile(t, filepath.Join(dir, "big.pb"), gen.Plain(p))
	totals := map[string]int64{}
	for name, f := range map[string]string{"small": small, "big": big} {
		dest := filepath.Join(dir, name+".pgo")
		if r := pgofetch(t, "-trim=false", "-comment=false", "-fail", "-normalize", "-in", f, dest); r.code != 0 {
			t.Fatalf("pgofetch -normalize %s failed\n%s", name, r)
		}
		q, err := profile.ParseData(readFile(t, dest))
		if err != nil {
			t.Fatal(err)
		}
		idx := 0
		for i, st := range q.SampleType {
			if (st.Type == "samples" && st.Unit == "count") || (st.Type == "cpu" && st.Unit == "nanoseconds") {
				idx = i
				break
			}
		}
		for _, s := range q.Sample {
			totals[name] += s.Value[idx]
		}
	}
	if d := totals["small"] - totals["big"]; d < -int64(len(p.Sample)) || d > int64(len(p.Sample)) || totals["big"] < 9e8 {
		t.Errorf("normalized totals %v: want both 1e9 give or take rounding", totals)
	}
}

// Bad weights are usage errors: exit 2 even without -fail, DEST untouched.
func TestWeightUsage(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in.pb"), gen.NewSet(3, gen.Options{MaxProfiles: 1}).Files[0].Data)
	dest := filepath.Join(dir, "default.pgo")
	cases := map[string][]string{
		"negative":         {"-weight", "-1", "-in", in},
		"NaN":              {"-weight", "NaN", "-in", in},
		"inf":              {"-weight", "inf", "-in", in},
		"too big":          {"-weight", "1e400", "-in", in},
		"not a number":     {"-weight", "heavy", "-in", in},
		"empty":            {"-weight=", "-in", in},
		"trailing garbage": {"-weight", "2x", "-in", in},
		"all zero":         {"-weight", "0", "-in", in, "-in", in},
		"weighs nothing":   {"-in", in, "-weight", "2"},
	}
	for name, args := range cases {
		r := pgofetch(t, append(args, dest)...)
		if r.code != 2 || !strings.Contains(r.stderr, "weight") {
			t.Errorf("%s: exit %d, want 2 and a line naming -weight\n%s", name, r.code, r)
		}
	}
	if r := pgofetch(t, "-weight", "0", "-in", in, "-weight", "0x1p-2", "-in", in, dest); r.code != 0 {
		t.Errorf("a zero weight beside a positive one: exit %d, want 0\n%s", r.code, r)
	}
}

// -comment records each source's weight and -normalize.
func TestWeightProvenance(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in.pb"), gen.NewSet(3, gen.Options{MaxProfiles: 1}).Files[0].Data)
	dest := filepath.Join(dir, "default.pgo")
	if r := pgofetch(t, "-trim=false", "-fail", "-normalize", "-in", in, "-weight", "0.5", "-in", in, dest); r.code != 0 {
		t.Fatalf("pgofetch failed\n%s", r)
	}
	p, err := profile.ParseData(readFile(t, dest))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.Comments, "\n")
	for _, want := range []string{"pgofetch: source " + in + "\n", "pgofetch: source " + in + ", weight 0.5",
		"pgofetch: -normalize: each profile scaled to a total of 1000000000 before its weight"} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("comments lack %q:\n%s", want, got)
		}
	}
}
