package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"pgofetch/tests/gen"
)

// Exit codes (integrations/README.md).
const (
	exitOK     = 0
	exitUsage  = 2
	exitSource = 3
	exitData   = 4
	exitOutput = 5
)

// badCase is an input pgofetch must refuse.
type badCase struct {
	name  string
	files map[string][]byte // written into the source directory
	ins   []string          // -in arguments: names of files above, or as they are
	code  int               // the exit code with -fail
	says  []string          // regexps (case-insensitive) the error line must match
	names []string          // sources the error line must name (file names above, or as they are)
}

// The bad profiles, each wrong in one way, and what the error must say.
func badCases() []badCase {
	good := gen.Gzipped(gen.Plain(gen.Minimal()))
	one := func(name string, data []byte, code int, says ...string) badCase {
		return badCase{name: name, files: map[string][]byte{"bad.pprof": data}, ins: []string{"bad.pprof"},
			code: code, says: says, names: []string{"bad.pprof"}}
	}
	inZip := func(name string, data []byte, says ...string) badCase {
		c := one(name, data, exitData, says...)
		c.files = map[string][]byte{"profiles.zip": data}
		c.ins = []string{"profiles.zip"}
		c.names = []string{"profiles.zip"}
		return c
	}
	cases := []badCase{
		{name: "missing file", ins: []string{"no-such.pprof"}, code: exitSource,
			says: []string{`no such file|not found|does not exist|cannot open`}, names: []string{"no-such.pprof"}},
		one("empty file", nil, exitData, `empty`),
		one("truncated gzip", gen.TruncatedGzip(), exitData, `gzip`, `truncat|unexpected end|incomplete|short`),
		one("corrupt gzip CRC", gen.CorruptGzipCRC(), exitData, `gzip`, `crc|check|corrupt|checksum`),
		one("truncated zstd", gen.TruncatedZstd(), exitData, `zstd`, `truncat|unexpected end|incomplete|short`),
		one("varint too long", gen.BadVarint(), exitData, `varint`),
		one("length past the end", gen.LengthPastEnd(), exitData, `past|beyond|exceed|overrun|truncat|too long|out of bounds|end of`),
		one("wrong wire type", gen.WrongWireType(), exitData, `wire type`),
		one("group wire type", gen.GroupWireType(), exitData, `wire type`),
		one("string index out of range", gen.StringIndexOutOfRange(), exitData, `string`, `\b99\b`),
		one("first string not empty", gen.FirstStringNotEmpty(), exitData, `string`),
		one("location references missing function", gen.MissingFunction(), exitData, `function`, `\b7\b`),
		one("location line without function", gen.NilFunction(), exitData, `function`),
		one("sample references missing location", gen.MissingLocation(), exitData, `location`, `\b9\b`),
		one("duplicate function id", gen.DuplicateFunctionID(), exitData, `function`, `duplicate|twice|more than once|same id|multiple|repeated`, `\b2\b`),
		one("duplicate location id", gen.DuplicateLocationID(), exitData, `location`, `duplicate|twice|more than once|same id|multiple|repeated`, `\b1\b`),
		one("zero location id", gen.ZeroLocationID(), exitData, `location`, `\bid\b.*\b0\b|zero|reserved|missing id|without (an )?id`),
		one("zero function id", gen.ZeroFunctionID(), exitData, `function`, `\bid\b.*\b0\b|zero|reserved|missing id|without (an )?id`),
		one("sample with wrong number of values", gen.WrongValueCount(), exitData, `value`),
		one("samples without sample types", gen.SamplesWithoutTypes(), exitData, `value|sample type`),
		inZip("ZIP entry with corrupt deflate data", gen.ZipCorruptDeflate(good), `bad\.pprof`, `deflate|corrupt|invalid`),
		inZip("ZIP entry failing its CRC", gen.ZipBadCRC(good), `bad\.pprof`, `crc|checksum`),
		inZip("ZIP entry with unsupported method", gen.ZipUnsupportedMethod(good), `bad\.pprof`, `method|unsupported|compression`),
		inZip("ZIP entry name holding a NUL", gen.Zip([]gen.ZipEntry{{Name: "a\x00b.pprof", Data: good}}), `the name of entry 0 holds a NUL byte`),
		inZip("empty ZIP", gen.ZipEmpty(), `empty|no (profiles?|entries|files)`),
		inZip("truncated ZIP", gen.ZipTruncated(good), `truncat|end of central|damaged|corrupt|not a valid|incomplete`),
		inZip("ZIP entry that is not a profile", gen.Zip([]gen.ZipEntry{{Name: "good.pprof", Data: good}, {Name: "notes.txt", Data: gen.BadVarint()}}), `notes\.txt`, `varint`),
		{name: "different sample types",
			files: map[string][]byte{
				"a.pprof": gen.Plain(gen.Minimal()),
				"b.pprof": gen.Plain(gen.WithSampleTypes(gen.ValueType{Type: "samples", Unit: "count"})),
			},
			ins: []string{"a.pprof", "b.pprof"}, code: exitData,
			says: []string{`sample type|incompatible`}, names: []string{"a.pprof", "b.pprof"}},
		{name: "different period types",
			files: map[string][]byte{
				"a.pprof": gen.Plain(gen.Minimal()),
				"b.pprof": gen.Plain(gen.WithPeriodType(&gen.ValueType{Type: "wall", Unit: "nanoseconds"})),
			},
			ins: []string{"a.pprof", "b.pprof"}, code: exitData,
			says: []string{`period type|incompatible`}, names: []string{"a.pprof", "b.pprof"}},
		{name: "incompatible third profile after two good ones",
			files: map[string][]byte{
				"a.pprof": gen.Plain(gen.Minimal()),
				"b.pprof": gen.Gzipped(gen.Plain(gen.Minimal())),
				"c.pprof": gen.Plain(gen.WithPeriodType(nil)),
			},
			ins: []string{"a.pprof", "b.pprof", "c.pprof"}, code: exitData,
			says: []string{`period type|incompatible`}, names: []string{"c.pprof"}},
		{name: "good file then a bad one",
			files: map[string][]byte{"a.pprof": good, "b.pprof": gen.MissingLocation()},
			ins:   []string{"a.pprof", "b.pprof"}, code: exitData,
			says: []string{`location`}, names: []string{"b.pprof"}},
		// Profiles are read, decoded and merged on different threads; the
		// error reported is still the first one in profile order.
		{name: "incompatible second profile, then a corrupt third",
			files: map[string][]byte{
				"a.pprof": gen.Plain(gen.Minimal()),
				"b.pprof": gen.Plain(gen.WithPeriodType(nil)),
				"c.pprof": gen.MissingLocation(),
			},
			ins: []string{"a.pprof", "b.pprof", "c.pprof"}, code: exitData,
			says: []string{`period type|incompatible`}, names: []string{"a.pprof", "b.pprof"}},
		{name: "corrupt second profile, then a missing file",
			files: map[string][]byte{"a.pprof": good, "b.pprof": gen.MissingLocation()},
			ins:   []string{"a.pprof", "b.pprof", "no-such.pprof"}, code: exitData,
			says: []string{`location`, `\b9\b`}, names: []string{"b.pprof"}},
		{name: "incompatible second profile, then a missing file",
			files: map[string][]byte{
				"a.pprof": gen.Plain(gen.Minimal()),
				"b.pprof": gen.Plain(gen.WithPeriodType(nil)),
			},
			ins: []string{"a.pprof", "b.pprof", "no-such.pprof"}, code: exitData,
			says: []string{`period type|incompatible`}, names: []string{"a.pprof", "b.pprof"}},
		{name: "corrupt first profile, then an incompatible pair",
			files: map[string][]byte{
				"a.pprof": gen.MissingLocation(),
				"b.pprof": gen.Plain(gen.Minimal()),
				"c.pprof": gen.Plain(gen.WithPeriodType(nil)),
			},
			ins: []string{"a.pprof", "b.pprof", "c.pprof"}, code: exitData,
			says: []string{`location`, `\b9\b`}, names: []string{"a.pprof"}},
		{name: "source is a directory", files: map[string][]byte{}, ins: []string{"."}, code: exitSource,
			says: []string{`directory|is a dir`}, names: []string{"."}},
	}
	return cases
}

// Each bad input: a one-line error naming the source and the fault; exit 0
// and a warning without -fail, the documented code with it; an existing
// DEST untouched (content and mtime) and no temporary file left.
func TestBadInputs(t *testing.T) {
	requireBinary(t)
	for _, c := range badCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			for name, data := range c.files {
				writeFile(t, filepath.Join(src, name), data)
			}
			var args, names []string
			for _, in := range c.ins {
				if !strings.Contains(in, "://") {
					in = filepath.Join(src, in)
				}
				args = append(args, "-in", in)
			}
			for _, n := range c.names {
				names = append(names, filepath.Join(src, n))
			}
			for _, fail := range []bool{false, true} {
				checkFailure(t, args, fail, c.code, c.says, names)
			}
		})
	}
}

// checkFailure runs pgofetch with args (plus -fail and a DEST that exists)
// and checks the failure is reported and harmless.
func checkFailure(t *testing.T, args []string, fail bool, code int, says, names []string) {
	t.Helper()
	destDir := t.TempDir()
	dest := filepath.Join(destDir, "default.pgo")
	before := []byte("an older profile, to be kept as it is\n")
	writeFile(t, dest, before)
	setOld(t, dest)
	listing := listDir(t, destDir)

	all := slices.Clone(args)
	if fail {
		all = append([]string{"-fail"}, all...)
	}
	r := pgofetch(t, append(all, dest)...)
	want := exitOK
	if fail {
		want = code
	}
	if r.code != want {
		t.Errorf("-fail=%v: exit code %d, want %d\n%s", fail, r.code, want, r)
	}
	if r.stdout != "" {
		t.Errorf("-fail=%v: stdout not empty: %q", fail, r.stdout)
	}
	var errs, warns []string
	for _, l := range r.lines() {
		switch {
		case strings.HasPrefix(l, "ERR "):
			errs = append(errs, l)
		case strings.HasPrefix(l, "WRN "):
			warns = append(warns, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("-fail=%v: %d error lines (ERR ...), want 1\n%s", fail, len(errs), r)
	}
	checkMessage(t, errs[0], says, names)
	if !fail && len(warns) == 0 {
		t.Errorf("no warning (WRN ...) that the build goes on without a fresh profile\n%s", r)
	}
	if got := readFile(t, dest); string(got) != string(before) {
		t.Errorf("-fail=%v: DEST changed: %q", fail, got)
	}
	if m := mtime(t, dest); !m.Equal(old) {
		t.Errorf("-fail=%v: DEST's mtime changed to %v", fail, m)
	}
	if l := listDir(t, destDir); !slices.Equal(l, listing) {
		t.Errorf("-fail=%v: DEST's directory now holds %q, before %q (a temporary file left?)", fail, l, listing)
	}
}

func checkMessage(t *testing.T, line string, says, names []string) {
	t.Helper()
	for _, s := range says {
		if !regexp.MustCompile(`(?i)` + s).MatchString(line) {
			t.Errorf("error line does not say /%s/:\n%s", s, line)
		}
	}
	for _, n := range names {
		if !strings.Contains(line, n) {
			t.Errorf("error line does not name %s:\n%s", n, line)
		}
	}
}

// Failures writing DEST: code 5, the message names DEST, nothing created.
func TestDestUnwritable(t *testing.T) {
	requireBinary(t)
	good := gen.Gzipped(gen.Plain(gen.Minimal()))
	cases := []struct {
		name string
		dest func(dir string) string
		says string
	}{
		{"directory missing", func(dir string) string { return filepath.Join(dir, "no-such-dir", "default.pgo") },
			`no such file|not exist|missing|directory`},
		{"directory is a file", func(dir string) string {
			writeFile(t, filepath.Join(dir, "somefile"), []byte("a file\n"))
			return filepath.Join(dir, "somefile", "default.pgo")
		}, `not a directory`},
		{"DEST is a directory", func(dir string) string {
			os.Mkdir(filepath.Join(dir, "default.pgo"), 0o755)
			return filepath.Join(dir, "default.pgo")
		}, `directory`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			src := writeFile(t, filepath.Join(t.TempDir(), "cpu.pprof"), good)
			dir := t.TempDir()
			dest := c.dest(dir)
			listing := listDir(t, dir)
			for _, fail := range []bool{false, true} {
				args := []string{"-in", src, dest}
				want := exitOK
				if fail {
					args = append([]string{"-fail"}, args...)
					want = exitOutput
				}
				r := pgofetch(t, args...)
				if r.code != want {
					t.Errorf("-fail=%v: exit code %d, want %d\n%s", fail, r.code, want, r)
				}
				var errs []string
				for _, l := range r.lines() {
					if strings.HasPrefix(l, "ERR ") {
						errs = append(errs, l)
					}
				}
				if len(errs) != 1 {
					t.Fatalf("-fail=%v: %d error lines, want 1\n%s", fail, len(errs), r)
				}
				checkMessage(t, errs[0], []string{c.says}, []string{dest})
				if !fail && !strings.Contains(r.stderr, "WRN ") {
					t.Errorf("no warning line\n%s", r)
				}
				if l := listDir(t, dir); !slices.Equal(l, listing) {
					t.Errorf("the directory now holds %q, before %q", l, listing)
				}
			}
		})
	}
}

// Usage errors: exit 2 whatever -fail says, a message and the usage, and
// DEST untouched.
func TestUsageErrors(t *testing.T) {
	requireBinary(t)
	good := gen.Gzipped(gen.Plain(gen.Minimal()))
	cases := []struct {
		name string
		args func(src, dest string) []string
		says []string
	}{
		{"unknown flag", func(src, dest string) []string { return []string{"-nosuchflag", "-in", src, dest} },
			[]string{`flag provided but not defined: -nosuchflag`}},
		{"bad duration", func(src, dest string) []string { return []string{"-timeout", "5x", "-in", src, dest} },
			[]string{`invalid value "5x" for flag -timeout`}},
		{"bad boolean", func(src, dest string) []string { return []string{"-noinline=maybe", "-in", src, dest} },
			[]string{`invalid (boolean )?value "maybe" for (flag )?-noinline`}},
		{"flag without its value", func(src, dest string) []string { return []string{"-in", src, "-timeout"} },
			[]string{`flag needs an argument: -timeout`}},
		{"missing DEST", func(src, dest string) []string { return []string{"-in", src} },
			[]string{`DEST|argument`}},
		{"no arguments at all", func(src, dest string) []string { return nil },
			[]string{`DEST|argument`}},
		{"-limit json-depth beyond the JSON parser's", func(src, dest string) []string {
			return []string{"-limit", "json-depth=5000", "-in", src, dest}
		}, []string{`invalid value "json-depth=5000" for flag -limit: json-depth is at most 1000`}},
		// A blank QUERY would be sent as " runtime:go", every Go profile
		// of the organisation.
		{"empty QUERY", func(src, dest string) []string { return []string{"", dest} },
			[]string{`QUERY 1 is empty: it would match every Go profile`}},
		{"blank QUERY after a good one", func(src, dest string) []string { return []string{"service:foo", "  \t ", dest} },
			[]string{`QUERY 2 is empty`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			src := writeFile(t, filepath.Join(t.TempDir(), "cpu.pprof"), good)
			dir := t.TempDir()
			dest := filepath.Join(dir, "default.pgo")
			writeFile(t, dest, []byte("older\n"))
			setOld(t, dest)
			for _, fail := range []bool{false, true} {
				args := c.args(src, dest)
				if fail {
					args = append([]string{"-fail"}, args...)
				}
				r := pgofetch(t, args...)
				if r.code != exitUsage {
					t.Errorf("exit code %d, want %d\n%s", r.code, exitUsage, r)
				}
				for _, s := range c.says {
					if !regexp.MustCompile(s).MatchString(r.stderr) {
						t.Errorf("stderr does not say /%s/\n%s", s, r)
					}
				}
				if !strings.Contains(r.stderr, "usage: pgofetch") {
					t.Errorf("no usage on stderr\n%s", r)
				}
				if r.stdout != "" {
					t.Errorf("stdout not empty: %q", r.stdout)
				}
				if string(readFile(t, dest)) != "older\n" || !mtime(t, dest).Equal(old) {
					t.Errorf("DEST touched")
				}
				if l := listDir(t, dir); !slices.Equal(l, []string{"default.pgo"}) {
					t.Errorf("DEST's directory holds %q", l)
				}
			}
		})
	}
}

// checkJSONLines fails unless every line of a -json run's stderr is one
// JSON object (valid UTF-8 too: a decoder would silently replace bad
// bytes) with a level and a message, and returns the objects.
func checkJSONLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		var o map[string]any
		if !utf8.ValidString(l) || !json.Valid([]byte(l)) || json.Unmarshal([]byte(l), &o) != nil ||
			o["level"] == nil || o["msg"] == nil {
			t.Errorf("not a JSON log line: %q", l)
			continue
		}
		objs = append(objs, o)
	}
	return objs
}

// -json output is JSON whatever bytes a source's name holds: invalid
// UTF-8 becomes U+FFFD, control characters and quotes are escaped, and a
// message cut to its maximum length in the middle of a character stays
// valid.
func TestJSONLogsAlwaysValid(t *testing.T) {
	requireBinary(t)
	dir := t.TempDir()
	good := gen.Gzipped(gen.Plain(gen.Minimal()))
	odd := writeFile(t, filepath.Join(dir, "odd-\xff\xfe-\"q\"-\x01-\u00e9\xe2\x82.pprof"), good)
	part := strings.Repeat("\u20ac", 80) // 240 bytes
	long := filepath.Join(dir, part, part, part, part, part, "x.pprof")
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"good run, odd name", []string{"-in", odd}, 0},
		{"missing file, odd name", []string{"-fail", "-in", odd + "\n-missing"}, exitSource},
		{"message cut mid-character", []string{"-fail", "-in", long}, exitSource},
		{"fail-open", []string{"-in", long}, exitOK},
	} {
		dest := filepath.Join(t.TempDir(), "default.pgo")
		r := pgofetch(t, append(append([]string{"-json"}, c.args...), dest)...)
		if r.code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, r.code, c.code, r)
		}
		objs := checkJSONLines(t, r.stderr)
		if len(objs) < 2 {
			t.Errorf("%s: %d JSON lines\n%s", c.name, len(objs), r)
		}
		for _, o := range objs {
			if o["level"] == "ERROR" && !strings.Contains(o["msg"].(string), "odd-\ufffd\ufffd-\"q\"-\x01-\u00e9\ufffd") &&
				!strings.Contains(o["msg"].(string), "\u20ac\u20ac\u20ac") {
				t.Errorf("%s: the error does not name the source: %q", c.name, o["msg"])
			}
		}
	}
}
