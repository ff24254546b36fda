package makeinclude

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// PGO_NOINLINE_FUNC and PGO_NOINLINE_FILE reach pgofetch: the profile
// records each expression in its comments and renames the functions they
// match; a bad expression or a missing file stops make, naming the setting.
func TestNoInlineSettings(t *testing.T) {
	w := newWorkWith(t, "")
	w.writeMakefile(makefile("cmd/batch,,," + benchProfile(w)))
	list := filepath.Join(filepath.Dir(w.dir), "noinline.txt")
	const fromFile = `example\.com/pgofetch-example/internal/work\.checksum`
	if err := os.WriteFile(list, []byte("# hot, and must stay a call\n"+fromFile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Two expressions in one setting, space-separated; $ written $$.
	const parse, encode = `example\.com/pgofetch-example/internal/work\.parseRecord`, `.*\.kvCodec\.Encode$`
	out := w.mustMake("pgo", "PGO_NOINLINE_FUNC="+parse+" "+strings.ReplaceAll(encode, "$", "$$"), "PGO_NOINLINE_FILE="+list)
	if !strings.Contains(out, "-noinline-func '"+parse+"' -noinline-func '"+encode+"' -noinline-file '"+list+"'") {
		t.Errorf("make did not pass the settings to pgofetch as -noinline-func and -noinline-file")
	}

	f, err := os.Open(filepath.Join(w.dir, "cmd", "batch", "default.pgo"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	comments := strings.Join(p.Comments, "\n")
	for _, re := range []string{parse, encode, fromFile} {
		if !strings.Contains(comments, `pgofetch: no-inline regexp "`+re+`"`) {
			t.Errorf("the profile's comments do not record %q:\n%s", re, comments)
		}
	}
	renamed := map[string]bool{}
	for _, fn := range p.Function {
		if name, ok := strings.CutPrefix(fn.Name, "DO NOT INLINE: "); ok {
			renamed[name] = true
		}
	}
	if !renamed["example.com/pgofetch-example/internal/work.parseRecord"] {
		t.Errorf("parseRecord is not renamed in the profile: %v", renamed)
	}

	for _, c := range []struct{ arg, want string }{
		{"PGO_NOINLINE_FUNC=work.(", "pgo.mk: error: bad setting PGO_NOINLINE_FUNC for cmd/batch/default.pgo"},
		{"PGO_NOINLINE_FILE=" + list + ".none", "pgo.mk: error: bad setting PGO_NOINLINE_FILE for cmd/batch/default.pgo"},
	} {
		out, ok := w.make("pgo", c.arg)
		if ok || !strings.Contains(out, c.want) {
			t.Errorf("make pgo %s: want a failure saying %q", c.arg, c.want)
		}
	}
}
