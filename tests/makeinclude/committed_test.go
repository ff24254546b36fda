package makeinclude

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fzfCommitted is fzfWiring for a repository that commits its profile.
const fzfCommitted = "PGO_MODE = committed\n" + fzfWiring

// PGO_MODE=committed on fzf's Makefile, with no pgofetch anywhere and no
// keys: fzf builds with its checked-in default.pgo, saying nothing; the
// next make builds nothing; a changed default.pgo (a git pull) rebuilds
// it once; a bad PGO_MODE stops make in one line.
func TestFzfCommitted(t *testing.T) {
	w := newFzfWired(t, fzfCommitted)
	w.withServer() // keys or not, nothing may reach it
	w.env = append(w.env, "PATH="+pathWithout(t))
	pgo := filepath.Join(w.dir, "default.pgo")
	if err := os.WriteFile(pgo, profileA(t), 0o644); err != nil {
		t.Fatal(err)
	}

	out := w.mustMake()
	bin := w.fzfBinary()
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("committed: go build ran %d times, want once", n)
	}
	if l := pgoLines(out); len(l) != 0 {
		t.Errorf("committed: pgo.mk said %q, want nothing", l)
	}
	w.builtWithProfile(bin, ".")
	b1 := w.ident(bin)
	time.Sleep(20 * time.Millisecond)
	out = w.mustMake()
	w.nothingRebuilt("committed, second make", out, bin, b1)

	// Keys in the environment change nothing: no fetch.
	w.env = append(w.env, "DD_API_KEY="+apiKey, "DD_APP_KEY="+appKey)
	out = w.mustMake("CI=true")
	w.nothingRebuilt("committed, keys and CI", out, bin, b1)
	if n := len(w.srv.Requests()); n != 0 {
		t.Errorf("committed: %d requests reached the API", n)
	}
	if !equalFile(t, pgo, profileA(t)) {
		t.Errorf("committed: default.pgo was rewritten")
	}

	// A pull brings a new profile: one rebuild, with it, then none.
	if err := os.WriteFile(pgo, profileB(t), 0o644); err != nil {
		t.Fatal(err)
	}
	out = w.mustMake()
	if n := strings.Count(out, "go build"); n != 1 {
		t.Errorf("new committed profile: go build ran %d times, want once", n)
	}
	if l := pgoLines(out); len(l) != 1 || !strings.HasPrefix(l[0], "pgo.mk: default.pgo changed: "+bin+" is rebuilt with it") ||
		strings.Contains(l[0], "fetch") {
		t.Errorf("new committed profile: pgo.mk said %q, want one line saying %s is rebuilt with it", l, bin)
	}
	w.builtWithProfile(bin, ".")
	b2 := w.ident(bin)
	out = w.mustMake()
	w.nothingRebuilt("after the new committed profile", out, bin, b2)

	help := w.mustMake("pgo-help")
	if !strings.Contains(help, "mode           committed: each default.pgo is the checked-in file") {
		t.Errorf("pgo-help does not show the committed mode")
	}

	// pgo-check vouches for the binary; its match report needs pgofetch,
	// which committed builds do not, and says so.
	out, ok := w.make("pgo-check")
	if ok || !strings.Contains(out, "pgo-check: ok "+bin+": -pgo=") ||
		!strings.Contains(out, "PGO_MODE=committed builds need none, this check does: put pgofetch on PATH") {
		t.Errorf("pgo-check without pgofetch in committed mode: want the binary ok and the match check failing, saying why")
	}

	// A bad mode stops make in one line, before anything is built.
	out, ok = w.make("PGO_MODE=comitted")
	var said []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "PGO_MODE") {
			said = append(said, l)
		}
	}
	if ok || len(said) != 1 || !strings.Contains(said[0], "pgo.mk: error: bad setting PGO_MODE='comitted': want fetch") {
		t.Errorf("PGO_MODE=comitted: want make to stop with one line naming it, got %q", said)
	}
	w.nothingRebuilt("bad PGO_MODE", out, bin, b2)
}

func equalFile(t *testing.T, path string, want []byte) bool {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(got) == string(want)
}
