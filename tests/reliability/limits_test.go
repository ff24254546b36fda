package reliability

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/gen"
	"pgofetch/tests/internal/testenv"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func zipOf(t *testing.T, entries ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i, data := range entries {
		f, err := w.Create(strings.Repeat("p", i+1))
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bomb is 64 MiB of zeros, gzip-compressed to about 64 KiB.
func bomb(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		zw.Write(zeros)
	}
	zw.Close()
	return b.Bytes()
}

// Every -limit, lowered below what the input needs: a clear error naming
// the limit, exit 4 with -fail (0 without), the old DEST intact; and the
// same input passes with the limit raised back.
func TestLimits(t *testing.T) {
	dir := t.TempDir()
	real := profile(t)
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	twoZip := writeFile(t, dir, "two.zip", zipOf(t, data, data))
	// -limit bytes counts decompressed bytes in profile order: with room
	// for two and a half profiles, the third is refused with what the
	// first two left.
	n := len(testenv.Decompressed(t, data))
	bytesLimit := fmt.Sprintf("bytes=%d", 2*n+n/2)
	bytesLeft := fmt.Sprintf("than the %d bytes left of -limit bytes", n/2)
	// A too-deep sample is named by its index in its profile, alone or
	// merged with others: sample 3 here, behind repeats the merge sums.
	repeats := gen.Minimal()
	one := repeats.Sample[1]
	repeats.Sample = []gen.Sample{one, one, one, repeats.Sample[0]}
	flat := gen.Minimal()
	flat.Sample = flat.Sample[1:]
	shallowOne := writeFile(t, dir, "shallow.pprof", gen.Plain(flat))
	deepLast := writeFile(t, dir, "deep-last.pprof", gen.Plain(repeats))
	bombFile := writeFile(t, dir, "bomb.pprof.gz", bomb(t))
	bombZip := writeFile(t, dir, "bomb.zip", zipOf(t, bomb(t)))
	cases := []struct {
		name, limit string
		ins         []string
		msg         string
	}{
		{"gzip bomb", "bytes=16MiB", []string{bombFile}, "gzip data decompresses to more than the 16777216 bytes left of -limit bytes"},
		{"bomb in a ZIP", "bytes=16MiB", []string{bombZip}, "gzip data decompresses to more than the 16777216 bytes left of -limit bytes"},
		{"bytes across profiles", bytesLimit, []string{real, real, real}, bytesLeft},
		{"source bytes", "source-bytes=64KiB", []string{real}, "file is larger than 65536 bytes (-limit source-bytes)"},
		{"zip entries", "zip-entries=1", []string{twoZip}, "ZIP has 2 entries, more than -limit zip-entries=1"},
		{"profiles", "profiles=1", []string{real, real}, "more than -limit profiles=1 profiles to merge"},
		{"strings", "strings=100", []string{real}, "strings, more than -limit strings=100"},
		{"locations", "locations=100", []string{real}, "locations, more than -limit locations=100"},
		{"stack depth", "stack-depth=3", []string{real}, "frames deep, more than -limit stack-depth=3"},
		{"stack depth behind repeats, profile alone", "stack-depth=1", []string{deepLast},
			"sample 3 is 2 frames deep, more than -limit stack-depth=1"},
		{"stack depth in a profile merged in", "stack-depth=1", []string{shallowOne, deepLast},
			"deep-last.pprof: sample 3 is 2 frames deep, more than -limit stack-depth=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, fail := range []bool{false, true} {
				d := newOldDest(t, t.TempDir())
				args := []string{"-limit", c.limit}
				if fail {
					args = append(args, "-fail")
				}
				for _, in := range c.ins {
					args = append(args, "-in", in)
				}
				r := run(t, nil, testenv.Pgofetch(t), append(args, d.path)...)
				want := 0
				if fail {
					want = 4
				}
				if r.code != want || !strings.Contains(r.stderr, c.msg) {
					t.Errorf("-fail=%v: exit %d (want %d), want %q in\n%s", fail, r.code, want, c.msg, r.stderr)
				}
				d.assertIntact(t)
			}
		})
	}
	// the defaults let a real merge through
	d := filepath.Join(t.TempDir(), "default.pgo")
	if r := run(t, nil, testenv.Pgofetch(t), "-fail", "-in", real, "-in", twoZip, d); r.code != 0 {
		t.Errorf("default limits refused a real merge: %s", r.stderr)
	}
	// a bad -limit is a usage error
	if r := run(t, nil, testenv.Pgofetch(t), "-limit", "depth=3", "-in", real, d); r.code != 2 ||
		!strings.Contains(r.stderr, `no limit "depth"`) {
		t.Errorf("bad -limit: exit %d\n%s", r.code, r.stderr)
	}
}
