// Package reliability checks what happens to an existing default.pgo when
// the disk, a signal or memory errors get in the way: a clear error, the
// old DEST intact, no temporary file left; and that pgofetch runs clean
// under valgrind.
package reliability

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgofetch/tests/internal/testenv"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return r
}

// oldDest is an existing DEST in dir, an hour old, that must survive.
type oldDest struct {
	path string
	data []byte
	when time.Time
}

func newOldDest(t *testing.T, dir string) oldDest {
	t.Helper()
	d := oldDest{path: filepath.Join(dir, "default.pgo"), data: []byte("the last good profile"),
		when: time.Now().Add(-time.Hour).Truncate(time.Second)}
	if err := os.WriteFile(d.path, d.data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(d.path, d.when, d.when); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d oldDest) assertIntact(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(d.path)
	if err != nil || !bytes.Equal(got, d.data) {
		t.Errorf("DEST was changed or lost: %v", err)
	}
	if st, err := os.Stat(d.path); err != nil || !st.ModTime().Equal(d.when) {
		t.Errorf("DEST's mtime changed")
	}
	entries, _ := os.ReadDir(filepath.Dir(d.path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// shim builds testdata/faultshim.c, an LD_PRELOAD library that fails or
// stalls writes of pgofetch's temporary file.
func shim(t *testing.T) string {
	t.Helper()
	lib := filepath.Join(t.TempDir(), "faultshim.so")
	out, err := exec.Command("gcc", "-shared", "-fPIC", "-O1", "-o", lib, "testdata/faultshim.c", "-ldl").CombinedOutput()
	if err != nil {
		t.Fatalf("building the fault shim: %v\n%s", err, out)
	}
	return lib
}

func profile(t *testing.T) string {
	return testenv.RealProfile(t)
}

// Write failures of every step: a clear error naming DEST, exit 5 with
// -fail, 0 without, the old DEST intact.
func TestWriteFailures(t *testing.T) {
	lib := shim(t)
	for _, c := range []struct{ mode, msg string }{
		{"enospc", "writing the temporary file: No space left on device"},
		{"eio", "syncing the temporary file: Input/output error"},
	} {
		for _, fail := range []bool{false, true} {
			d := newOldDest(t, t.TempDir())
			args := []string{"-in", profile(t), d.path}
			if fail {
				args = append([]string{"-fail"}, args...)
			}
			r := run(t, []string{"LD_PRELOAD=" + lib, "PGOFETCH_SHIM=" + c.mode}, testenv.Pgofetch(t), args...)
			want := 0
			if fail {
				want = 5
			}
			if r.code != want || !strings.Contains(r.stderr, "ERR cannot write "+d.path+": "+c.msg) {
				t.Errorf("%s -fail=%v: exit %d (want %d)\n%s", c.mode, fail, r.code, want, r.stderr)
			}
			d.assertIntact(t)
		}
	}
}

// A real full filesystem and a read-only one: small tmpfs mounts, which
// need root.
func TestFullAndReadOnlyFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; TestWriteFailures covers ENOSPC through a shim")
	}
	for _, c := range []struct{ name, opts, msg string }{
		{"full", "size=16k", "No space left on device"},
		{"read-only", "size=1m", "Read-only file system"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", c.opts, "tmpfs", dir).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs here (%v: %s)", err, out)
			}
			defer exec.Command("umount", dir).Run()
			d := newOldDest(t, dir)
			if c.name == "read-only" {
				if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
					t.Fatalf("remount ro: %v: %s", err, out)
				}
			}
			r := run(t, nil, testenv.Pgofetch(t), "-fail", "-in", profile(t), d.path)
			if r.code != 5 || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("exit %d, want 5 with %q\n%s", r.code, c.msg, r.stderr)
			}
			d.assertIntact(t)
		})
	}
}

// startStalled starts pgofetch writing dest from a real profile, and
// returns once the fault shim holds it in the middle of the write.
func startStalled(t *testing.T, lib, dest string) *exec.Cmd {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(testenv.Pgofetch(t), "-in", profile(t), dest)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+lib, "PGOFETCH_SHIM=stall", "PGOFETCH_SHIM_READY="+ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("pgofetch never reached the write")
		}
	}
}

// SIGINT and SIGTERM while the temporary file is being written: pgofetch
// dies of the signal, removes the temporary file, leaves DEST as it was.
func TestSignalMidWrite(t *testing.T) {
	lib := shim(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		d := newOldDest(t, dir)
		cmd := startStalled(t, lib, d.path)
		tmps, _ := filepath.Glob(filepath.Join(dir, ".default.pgo.pgofetch.tmp-*"))
		if len(tmps) != 1 {
			t.Errorf("%v: want one temporary file while writing, got %v", sig, tmps)
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != sig {
			t.Errorf("%v: pgofetch did not die of the signal: %v", sig, err)
		}
		d.assertIntact(t)
	}
}

// valgrind memcheck on representative runs: zero errors, zero leaks.
func TestValgrind(t *testing.T) {
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Fatalf("valgrind is not installed (core/install-deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pprof")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3}, 0o644)
	cases := []struct {
		name string
		code int
		args []string
	}{
		{"merge", 0, []string{"-in", profile(t), "-in", profile(t), filepath.Join(dir, "a.pgo")}},
		{"unchanged", 0, []string{"-in", profile(t), "-in", profile(t), filepath.Join(dir, "a.pgo")}},
		{"bad input", 4, []string{"-fail", "-in", bad, filepath.Join(dir, "b.pgo")}},
		{"missing file", 3, []string{"-fail", "-in", filepath.Join(dir, "missing"), filepath.Join(dir, "b.pgo")}},
		{"usage", 2, []string{"-bogus", "x"}},
	}
	for _, c := range cases {
		args := append([]string{"--leak-check=full", "--show-leak-kinds=definite,indirect",
			"--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", testenv.Pgofetch(t)}, c.args...)
		r := run(t, nil, "valgrind", args...)
		if r.code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, r.code, c.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "ERROR SUMMARY: 0 errors") {
			t.Errorf("%s: valgrind found errors:\n%s", c.name, r.stderr)
		}
	}
}
