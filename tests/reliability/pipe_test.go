package reliability

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"pgofetch/tests/gen"
	"pgofetch/tests/internal/testenv"
)

// sigpipeDefault fails the test when a child would start with SIGPIPE
// ignored: then a closed pipe could not kill it whatever pgofetch does,
// and the test below would prove nothing.
func sigpipeDefault(t *testing.T) {
	t.Helper()
	out, err := exec.Command("cat", "/proc/self/status").Output()
	if err != nil {
		testenv.Skip(t, "cannot read a child's signal dispositions: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err == nil && mask&(1<<(uint(syscall.SIGPIPE)-1)) != 0 {
				t.Fatalf("children start with SIGPIPE ignored here; run the tests from a shell that does not ignore it")
			}
			return
		}
	}
	testenv.Skip(t, "no SigIgn line in /proc/self/status")
}

// runClosed runs pgofetch with stdout and stderr on a pipe whose reader
// is gone (pgofetch ... 2>&1 | true, with true already done).
func runClosed(t *testing.T, args ...string) (code int, signaled bool) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(testenv.Pgofetch(t), args...)
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		return ws.ExitStatus(), ws.Signaled()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, false
}

// A closed stderr does not change the outcome: no death by SIGPIPE
// (exit 141 from a shell), the same exit code, DEST written or kept.
func TestClosedStderr(t *testing.T) {
	sigpipeDefault(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "cpu.pprof", gen.Gzipped(gen.Plain(gen.Minimal())))
	dest := filepath.Join(dir, "default.pgo")
	if code, sig := runClosed(t, "-v", "-in", src, dest); code != 0 || sig {
		t.Errorf("a good run: exit %d, killed by a signal: %v", code, sig)
	}
	if st, err := os.Stat(dest); err != nil || st.Size() == 0 {
		t.Errorf("a good run did not write DEST: %v", err)
	}
	d := newOldDest(t, t.TempDir())
	missing := filepath.Join(dir, "missing.pprof")
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"failure without -fail", []string{"-in", missing, d.path}, 0},
		{"failure with -fail", []string{"-fail", "-json", "-in", missing, d.path}, 3},
		{"usage error", []string{"-no-such-flag", d.path}, 2},
		{"help on stdout", []string{"-h"}, 0},
	} {
		if code, sig := runClosed(t, c.args...); code != c.code || sig {
			t.Errorf("%s: exit %d, killed by a signal: %v; want exit %d", c.name, code, sig, c.code)
		}
	}
	d.assertIntact(t)
}
