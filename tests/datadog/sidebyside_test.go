package datadog

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgofetch/tests/fakedd"
)

// Datadog's own tool and pgofetch, against the same fake API, give the same
// merged profile. datadog-pgo always calls https://app.<DD_SITE>:443, so the
// fake serves app.datadoghq.com on loopback port 443 through an /etc/hosts
// entry: that needs root, and the tool must be installable through the Go
// module proxy.
func TestSideBySideWithDatadogPGO(t *testing.T) {
	gobin := t.TempDir()
	install := exec.Command("go", "install", "github.com/DataDog/datadog-pgo@latest")
	install.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("datadog-pgo cannot be installed through the Go module proxy here, so the side-by-side check cannot run: %s",
			strings.TrimSpace(lastLine(string(out))))
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot map app.datadoghq.com to loopback in /etc/hosts nor listen on port 443")
	}
	restore := addHostsEntry(t, "127.0.0.1 app.datadoghq.com")
	defer restore()
	e := newEnv(t, fakedd.Options{Addr: "127.0.0.1:443"})
	vars := map[string]string{"DD_API_KEY": e.srv.APIKey(), "DD_APP_KEY": e.srv.AppKey(), "DD_SITE": "datadoghq.com"}
	ours := filepath.Join(t.TempDir(), "default.pgo")
	if r := e.runEnv(vars, "-fail", "-trim=false", "-comment=false", "service:foo", ours); r.code != 0 {
		t.Fatalf("pgofetch: exit %d\n%s", r.code, r.stderr)
	}
	theirs := filepath.Join(t.TempDir(), "default.pgo")
	cmd := exec.Command(filepath.Join(gobin, "datadog-pgo"), "-fail", "service:foo", theirs)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+e.caFile)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	e.assertNoKeys("datadog-pgo's output", string(out))
	if err != nil {
		t.Fatalf("datadog-pgo: %v\n%s", err, out)
	}
	if !bytes.Equal(gunzipFile(t, ours), gunzipFile(t, theirs)) {
		t.Errorf("pgofetch and datadog-pgo merged the same profiles differently")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// addHostsEntry appends line to /etc/hosts and returns what puts the file
// back as it was.
func addHostsEntry(t *testing.T, line string) func() {
	t.Helper()
	old, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/etc/hosts", append(append(old, '\n'), line+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() { os.WriteFile("/etc/hosts", old, 0o644) }
}
