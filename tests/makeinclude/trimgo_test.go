package makeinclude

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// PGO_GO reaches the fetch as -go: with a go newer than the Go versions
// pgofetch's -trim is proven for, fzf's default.pgo is the full profile
// (byte for byte -trim=false's), and pgofetch says why; without PGO_GO it
// asks the go on PATH, a proven one, and trims.
func TestFzfGoReachesFetch(t *testing.T) {
	w := newFzfWired(t, "include pgo.mk\n$(eval $(call pgo_profile,.,,target/$(BINARY),prod.pprof))\n")
	if err := os.WriteFile(filepath.Join(w.dir, "prod.pprof"), profileA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = append(w.env, "PATH="+pathWith(t))
	full := w.pgofetch("full.pgo", "-trim=false", "-in", "prod.pprof")

	out := w.mustMake("pgo")
	if strings.Contains(out, " -go ") {
		t.Errorf("PGO_GO unset: make passed -go, want pgofetch's default")
	}
	trimmed := w.read("default.pgo")
	if bytes.Equal(trimmed, full) {
		t.Fatalf("PGO_GO unset: the installed go is proven, yet default.pgo is the full profile")
	}

	newer := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(newer, []byte(testenv.FakeGoScript("go1.99")), 0o755); err != nil {
		t.Fatal(err)
	}
	out = w.mustMake("pgo", "PGO_GO="+newer)
	if !strings.Contains(out, "-go='"+newer+"'") {
		t.Errorf("make did not pass PGO_GO to the fetch as -go")
	}
	if !bytes.Equal(w.read("default.pgo"), full) {
		t.Errorf("PGO_GO=go1.99: default.pgo is not the full profile")
	}
	if !strings.Contains(out, "writing the full profile: the go that builds is newer than the Go versions -trim is proven for") ||
		!strings.Contains(out, "go1.99") {
		t.Errorf("PGO_GO=go1.99: pgofetch did not say why it writes the full profile")
	}
}
