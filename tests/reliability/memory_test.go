package reliability

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// zstdBomb is a zstd frame of RLE blocks that decompresses to n bytes of
// zeros (n a multiple of 128 KiB) from 4 bytes a block: 32 KiB for 1 GiB.
func zstdBomb(n int) []byte {
	const block = 128 << 10
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38} // magic; no size, no checksum; a 128 KiB window
	for done := 0; done < n; done += block {
		last := uint32(0)
		if done+block >= n {
			last = 1
		}
		h := uint32(block)<<3 | 1<<1 | last // an RLE block of 128 KiB
		b = binary.LittleEndian.AppendUint32(b, h)[:len(b)+3]
		b = append(b, 0)
	}
	return b
}

// memRun is one run of pgofetch, with its exit code and peak RSS.
type memRun struct {
	code   int
	stderr string
	rssMiB int64
}

func runMeasured(t *testing.T, env []string, argv ...string) memRun {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	r := memRun{stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", argv, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssMiB = ru.Maxrss / 1024 // KiB on Linux
	}
	return r
}

// A decompression bomb, in a local file or in a Datadog answer, stops
// well under 512 MiB of peak memory (before -limit memory, 4 GiB of
// zeros took 4.2 GB): exit 4 with -fail (0 without), a line naming the
// limit, the old DEST intact. Under a 1 GiB address-space limit, as in a
// small CI container, the run ends the same way instead of being killed.
func TestMemoryBoundUnderBombs(t *testing.T) {
	pgofetch := testenv.Pgofetch(t)
	dir := t.TempDir()
	bomb := zstdBomb(4 << 30)
	file := writeFile(t, dir, "bomb.pprof.zst", bomb)

	var answer bytes.Buffer
	zw := zip.NewWriter(&answer)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bomb-id", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bomb)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/unstable/profiles/gopgo" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(answer.Bytes())
	}))
	defer api.Close()
	keys := []string{"DD_API_KEY=bomb-test-api-key", "DD_APP_KEY=bomb-test-app-key"}

	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"local file", nil, []string{"-in", file}},
		{"Datadog answer", keys, []string{"-api-url", api.URL, "service:bomb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, fail := range []bool{true, false} {
				d := newOldDest(t, t.TempDir())
				args := []string{pgofetch}
				want := 0
				if fail {
					args = append(args, "-fail")
					want = 4
				}
				args = append(args, c.args...)
				r := runMeasured(t, c.env, append(args, d.path)...)
				if r.code != want || !strings.Contains(r.stderr, "-limit memory") {
					t.Errorf("-fail=%v: exit %d (want %d), want -limit memory named in\n%s", fail, r.code, want, r.stderr)
				}
				if r.rssMiB == 0 || r.rssMiB >= 400 {
					t.Errorf("-fail=%v: peak RSS %d MiB, want under 400 MiB", fail, r.rssMiB)
				}
				d.assertIntact(t)
			}
			// The same run in a 1 GiB address space: refused alike, not killed.
			d := newOldDest(t, t.TempDir())
			sh := "ulimit -v 1048576 && exec \"$@\""
			r := runMeasured(t, c.env, append([]string{"sh", "-c", sh, "sh", pgofetch, "-fail"}, append(c.args, d.path)...)...)
			if r.code != 4 || !strings.Contains(r.stderr, "-limit memory") {
				t.Errorf("under ulimit -v 1GiB: exit %d (want 4)\n%s", r.code, r.stderr)
			}
			d.assertIntact(t)
		})
	}
	// An answer that is not a ZIP is refused at its first bytes, not
	// after -limit source-bytes (1 GiB) of it.
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("not a zip "), 1<<16)
		for i := 0; i < 200; i++ { // 128 MiB, unless the client hangs up
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer junk.Close()
	d := newOldDest(t, t.TempDir())
	r := runMeasured(t, keys, pgofetch, "-fail", "-api-url", junk.URL, "service:junk", d.path)
	if r.code != 4 || !strings.Contains(r.stderr, "not a ZIP archive") || r.rssMiB >= 64 {
		t.Errorf("an answer that is not a ZIP: exit %d, peak RSS %d MiB (want 4, under 64 MiB)\n%s", r.code, r.rssMiB, r.stderr)
	}
	d.assertIntact(t)
	// The bound is a limit like the others: raised, the bomb is refused by
	// -limit bytes instead.
	d = newOldDest(t, t.TempDir())
	r = runMeasured(t, nil, pgofetch, "-fail", "-limit", "memory=2GiB", "-limit", "bytes=64MiB", "-in", file, d.path)
	if r.code != 4 || !strings.Contains(r.stderr, "-limit bytes") {
		t.Errorf("memory raised, bytes lowered: exit %d\n%s", r.code, r.stderr)
	}
	d.assertIntact(t)
	// A real merge stays well inside the default.
	out := filepath.Join(t.TempDir(), "default.pgo")
	if r := runMeasured(t, nil, pgofetch, "-fail", "-in", profile(t), "-in", profile(t), out); r.code != 0 {
		t.Errorf("a real merge under the default bound: exit %d\n%s", r.code, r.stderr)
	}
}
