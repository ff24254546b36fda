package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"pgofetch/tests/gen"
)

// twoProfiles writes two different valid profiles (gzip) into dir.
func twoProfiles(t *testing.T, dir string) (a, b string) {
	t.Helper()
	pa := gen.Minimal()
	pb := gen.Minimal()
	pb.Sample[0].Value = []int64{7, 70000000}
	return writeFile(t, filepath.Join(dir, "a.pprof"), gen.Gzipped(gen.Plain(pa))),
		writeFile(t, filepath.Join(dir, "b.pprof"), gen.Zstded(gen.Plain(pb)))
}

// jsonLines parses stderr as one JSON object per line.
func jsonLines(t *testing.T, r result) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for i, l := range r.lines() {
		var o map[string]any
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("stderr line %d is not a JSON object: %v\n%s", i+1, err, r)
		}
		if dec.More() {
			t.Fatalf("stderr line %d holds more than one JSON value\n%s", i+1, r)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := o[k]; !ok {
				t.Errorf("stderr line %d has no %q: %s", i+1, k, l)
			}
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatalf("no log lines\n%s", r)
	}
	return objs
}

// An unchanged profile leaves DEST alone (content and mtime) and says so;
// a changed one replaces it; the JSON log's last line reports the result.
func TestDestRewriteOnlyOnChange(t *testing.T) {
	requireBinary(t)
	src := t.TempDir()
	a, b := twoProfiles(t, src)
	dir := t.TempDir()
	dest := filepath.Join(dir, "default.pgo")

	final := func(r result) map[string]any {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("pgofetch failed\n%s", r)
		}
		if r.stdout != "" {
			t.Errorf("stdout not empty: %q", r.stdout)
		}
		objs := jsonLines(t, r)
		last := objs[len(objs)-1]
		for _, k := range []string{"path", "samples", "bytes", "changed"} {
			if _, ok := last[k]; !ok {
				t.Errorf("last log line has no %q: %v", k, last)
			}
		}
		if last["path"] != dest {
			t.Errorf("last log line: path %v, want %s", last["path"], dest)
		}
		st, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := last["bytes"].(json.Number); !ok || n.String() != strconv.FormatInt(st.Size(), 10) {
			t.Errorf("last log line: bytes %v, DEST has %d", last["bytes"], st.Size())
		}
		p, err := profile.ParseData(readFile(t, dest))
		if err != nil {
			t.Fatalf("DEST does not parse: %v", err)
		}
		if n, ok := last["samples"].(json.Number); !ok || n.String() != strconv.Itoa(len(p.Sample)) {
			t.Errorf("last log line: samples %v, DEST has %d", last["samples"], len(p.Sample))
		}
		return last
	}

	// First write.
	r := pgofetch(t, "-json", "-trim=false", "-comment=false", "-in", a, dest)
	last := final(r)
	if last["changed"] != true || last["msg"] != "wrote PGO file" {
		t.Errorf("first write: changed=%v msg=%v, want true, \"wrote PGO file\"", last["changed"], last["msg"])
	}
	first := readFile(t, dest)
	if want := oracle(t, true, a); !bytes.Equal(gunzip(t, first), want) {
		t.Errorf("DEST is not the profile of %s", a)
	}
	setOld(t, dest)

	// Same profile again: nothing written.
	r = pgofetch(t, "-json", "-trim=false", "-comment=false", "-in", a, dest)
	last = final(r)
	if last["changed"] != false || last["msg"] != "PGO file unchanged" {
		t.Errorf("second write: changed=%v msg=%v, want false, \"PGO file unchanged\"", last["changed"], last["msg"])
	}
	if !bytes.Equal(readFile(t, dest), first) || !mtime(t, dest).Equal(old) {
		t.Errorf("an unchanged profile touched DEST (mtime %v)", mtime(t, dest))
	}
	// And in text form, the last line says it is unchanged.
	r = pgofetch(t, "-trim=false", "-comment=false", "-in", a, dest)
	if lines := r.lines(); r.code != 0 || len(lines) == 0 || !strings.Contains(lines[len(lines)-1], "unchanged") {
		t.Errorf("text log: the last line does not say DEST is unchanged\n%s", r)
	}
	if !mtime(t, dest).Equal(old) {
		t.Errorf("an unchanged profile touched DEST")
	}

	// Another profile: DEST replaced.
	r = pgofetch(t, "-json", "-trim=false", "-comment=false", "-in", b, dest)
	last = final(r)
	if last["changed"] != true {
		t.Errorf("third write: changed=%v, want true", last["changed"])
	}
	if want := oracle(t, true, b); !bytes.Equal(gunzip(t, readFile(t, dest)), want) {
		t.Errorf("DEST is not the profile of %s", b)
	}
	if mtime(t, dest).Equal(old) {
		t.Errorf("DEST replaced but its mtime did not change")
	}
	if l := listDir(t, dir); !slices.Equal(l, []string{"default.pgo"}) {
		t.Errorf("DEST's directory holds %q", l)
	}
}

// A DEST that holds the same profile compressed by another gzip encoder
// (as datadog-pgo writes it, with Go's compress/gzip) counts as unchanged:
// switching tools does not force a rebuild.
func TestDestSameProfileOtherGzip(t *testing.T) {
	requireBinary(t)
	a, _ := twoProfiles(t, t.TempDir())
	dest := filepath.Join(t.TempDir(), "default.pgo")
	writeFile(t, dest, gen.Gzipped(oracle(t, true, a)))
	setOld(t, dest)
	before := readFile(t, dest)
	r := pgofetch(t, "-trim=false", "-comment=false", "-in", a, dest)
	if r.code != 0 {
		t.Fatalf("pgofetch failed\n%s", r)
	}
	if !bytes.Equal(readFile(t, dest), before) || !mtime(t, dest).Equal(old) {
		t.Errorf("DEST rewritten though it held the same profile\n%s", r)
	}
}

// Logs go to stderr, one line per source read naming it, and stdout stays
// empty; -json makes every line a JSON object.
func TestLogs(t *testing.T) {
	requireBinary(t)
	a, b := twoProfiles(t, t.TempDir())
	dest := filepath.Join(t.TempDir(), "default.pgo")
	for _, js := range []bool{false, true} {
		args := []string{"-in", a, "-in", b, dest}
		if js {
			args = append([]string{"-json"}, args...)
		}
		r := pgofetch(t, args...)
		if r.code != 0 {
			t.Fatalf("pgofetch failed\n%s", r)
		}
		if r.stdout != "" {
			t.Errorf("-json=%v: stdout not empty: %q", js, r.stdout)
		}
		if js {
			jsonLines(t, r)
		} else if strings.Contains(r.stderr, "\x1b[") {
			t.Errorf("colours in logs that do not go to a terminal\n%s", r)
		}
		for _, src := range []string{a, b} {
			if !strings.Contains(r.stderr, src) {
				t.Errorf("-json=%v: no log line names the source %s\n%s", js, src, r)
			}
		}
	}
}
