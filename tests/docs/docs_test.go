// Package docs keeps the user documentation (README.md, CONTRIBUTING.md,
// docs/*.md) from rotting: every relative link must resolve, and every
// fenced code block must say what checks it, in its info string after the
// language:
//
//	```sh test [in=repo] [creates=PATH]...
//	                               run with bash in a sandbox (below), or
//	                               with in=repo at the top of the repository
//	                               (for `make demo`); it must exit 0, log no
//	                               ERR line, and leave each PATH behind (a
//	                               .pgo one a profile with samples)
//	```text usage                  must be exactly what `pgofetch -h` prints
//	```make not-run: REASON        not run; REASON (three words or more)
//	                               says why, and where it is checked instead
//
// The sandbox of a `test` block is a fresh directory holding a Go module
// with a main package at cmd/foo, the profiles cpu1.pprof (gzip),
// cpu2.pprof.zst (zstd) and more.zip (a ZIP of one profile), with the
// binary under test first on PATH as `pgofetch`. Datadog is the fake API
// of tests/fakedd (PGOFETCH_API_URL, its CA as SSL_CERT_FILE, its keys in
// DD_API_KEY and DD_APP_KEY); it serves profiles for any service. Two
// placeholders a reader fills in are filled in the same way: the `...` of
// `DD_API_KEY=...` and `DD_APP_KEY=...` become the fake API's keys, and
// `localhost:6060` becomes the address of a local net/http/pprof endpoint.
package docs

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/klauspost/compress/zstd"

	"pgofetch/tests/fakedd"
	"pgofetch/tests/internal/testenv"
)

// docFiles are the documents checked, relative to the repository root.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := testenv.RepoRoot(t)
	files := []string{"README.md", "CONTRIBUTING.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	sort.Strings(files[2:])
	return files
}

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return strings.ReplaceAll(string(data), "\r\n", "\n")
}

// block is one fenced code block.
type block struct {
	file string
	line int    // of the opening fence, from 1
	lang string // first word of the info string
	tag  string // the rest of the info string
	text string // the content, indentation of the fence removed
}

func (b block) String() string { return b.file + ":" + strconv.Itoa(b.line) }

var fenceRE = regexp.MustCompile("^( {0,3}|\\s*)(`{3,}|~{3,})(.*)$")

// blocks splits a Markdown text into its fenced code blocks and the prose
// between them (code blocks blanked out, so that links are looked for in
// prose only). An unterminated block runs to the end, as in CommonMark.
func blocks(file, text string) ([]block, string) {
	lines := strings.Split(text, "\n")
	var out []block
	var prose strings.Builder
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			prose.WriteString(lines[i] + "\n")
			continue
		}
		indent, fence := len(m[1]), m[2]
		info := strings.TrimSpace(m[3])
		b := block{file: file, line: i + 1}
		b.lang, b.tag, _ = strings.Cut(info, " ")
		b.tag = strings.TrimSpace(b.tag)
		var body []string
		for i++; i < len(lines); i++ {
			l := lines[i]
			if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				break
			}
			for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
				l = l[1:]
			}
			body = append(body, l)
		}
		if len(body) > 0 {
			b.text = strings.Join(body, "\n") + "\n"
		}
		out = append(out, b)
		prose.WriteString("\n")
	}
	return out, prose.String()
}

var (
	inlineCodeRE = regexp.MustCompile("`[^`\n]*`")
	linkRE       = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refDefRE     = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$`)
	headingRE    = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
	slugDropRE   = regexp.MustCompile(`[^\p{L}\p{N}\- _]`)
)

// slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces to hyphens; repeats get -1, -2, ...
func slugs(text string) map[string]bool {
	_, prose := blocks("", text)
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range headingRE.FindAllStringSubmatch(prose, -1) {
		h := inlineCodeRE.ReplaceAllStringFunc(m[1], func(s string) string { return strings.Trim(s, "`") })
		h = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(h, "$1")
		s := strings.ReplaceAll(slugDropRE.ReplaceAllString(strings.ToLower(h), ""), " ", "-")
		if n := seen[s]; n > 0 {
			out[s+"-"+strconv.Itoa(n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// Every relative link of the documents names a file or directory of the
// repository, and every #anchor a heading of the Markdown file it points
// into. Links to other sites are not fetched (the tests run offline).
func TestDocsLinks(t *testing.T) {
	root := testenv.RepoRoot(t)
	for _, rel := range docFiles(t) {
		text := readDoc(t, rel)
		_, prose := blocks(rel, text)
		prose = inlineCodeRE.ReplaceAllString(prose, "")
		var targets []string
		for _, m := range linkRE.FindAllStringSubmatch(prose, -1) {
			targets = append(targets, m[1])
		}
		for _, m := range refDefRE.FindAllStringSubmatch(prose, -1) {
			targets = append(targets, m[1])
		}
		if len(targets) == 0 && rel == "README.md" {
			t.Errorf("README.md: no links found; the link pattern is broken")
		}
		for _, target := range targets {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			if p, err := url.PathUnescape(path); err == nil {
				path = p
			}
			file := filepath.Join(root, rel)
			if path != "" {
				file = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				if r, err := filepath.Rel(root, file); err != nil || strings.HasPrefix(r, "..") {
					t.Errorf("%s: link %q leaves the repository", rel, target)
					continue
				}
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s: link %q: no such file or directory", rel, target)
					continue
				}
			}
			if frag == "" {
				continue
			}
			if !strings.HasSuffix(file, ".md") {
				t.Errorf("%s: link %q: an anchor into a file that is not Markdown", rel, target)
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Errorf("%s: link %q: %v", rel, target, err)
				continue
			}
			if !slugs(string(data))[strings.ToLower(frag)] {
				t.Errorf("%s: link %q: no heading with the anchor #%s", rel, target, frag)
			}
		}
	}
}

// Every code block says what checks it, and is checked so.
func TestDocsCodeBlocks(t *testing.T) {
	var run []block
	for _, rel := range docFiles(t) {
		bs, _ := blocks(rel, readDoc(t, rel))
		for _, b := range bs {
			switch word, _, _ := strings.Cut(b.tag, " "); {
			case word == "test":
				if b.lang != "sh" {
					t.Errorf("%s: a `test` block must be `sh`, not %q", b, b.lang)
					continue
				}
				run = append(run, b)
			case word == "usage":
				checkUsage(t, b)
			case strings.HasPrefix(b.tag, "not-run:"):
				if reason := strings.Fields(strings.TrimPrefix(b.tag, "not-run:")); len(reason) < 3 {
					t.Errorf("%s: `not-run:` needs a reason of three words or more, got %q", b, b.tag)
				}
			default:
				t.Errorf("%s: code block with info string %q: say what checks it "+
					"(`%s test`, `%s usage` or `%s not-run: REASON`; see tests/docs)", b, b.lang+" "+b.tag,
					b.lang, b.lang, b.lang)
			}
		}
	}
	if len(run) == 0 {
		t.Fatal("no `sh test` block found: the documents lost their examples, or this test cannot see them")
	}
	env := newSandboxEnv(t)
	for _, b := range run {
		t.Run(strings.NewReplacer("/", "_", ".md:", "_").Replace(b.String()), func(t *testing.T) {
			env.run(t, b)
		})
	}
}

func checkUsage(t *testing.T, b block) {
	t.Helper()
	out, err := exec.Command(testenv.Pgofetch(t), "-h").Output()
	if err != nil {
		t.Fatalf("pgofetch -h: %v", err)
	}
	if got, want := b.text, string(out); got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Errorf("%s: the usage block differs from `pgofetch -h` at its line %d:\n  doc: %q\n  -h:  %q",
					b, i+1, gl[i], wl[i])
				return
			}
		}
		t.Errorf("%s: the usage block has %d lines, `pgofetch -h` %d", b, len(gl), len(wl))
	}
}

// sandboxEnv is what every `test` block shares: the binary on PATH, the
// fake Datadog API, the pprof endpoint, the profiles.
type sandboxEnv struct {
	env      []string
	replacer *strings.Replacer
	files    map[string][]byte
}

func newSandboxEnv(t *testing.T) *sandboxEnv {
	bin := t.TempDir()
	if err := os.Symlink(testenv.Pgofetch(t), filepath.Join(bin, "pgofetch")); err != nil {
		t.Fatal(err)
	}
	dd, err := fakedd.Start(fakedd.Options{})
	if err != nil {
		t.Fatalf("starting the fake Datadog API: %v", err)
	}
	t.Cleanup(func() { dd.Close() })
	for i := 1; i <= 6; i++ {
		p := fakedd.Profile{ID: "docs-" + strconv.Itoa(i), Data: fakedd.SyntheticCPUProfile(100+i, float64(i), time.Minute)}
		if err := dd.AddProfile(p); err != nil {
			t.Fatal(err)
		}
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, dd.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	served := fakedd.SyntheticCPUProfile(7, 1.5, 30*time.Second)
	pprofSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r)
			return
		}
		w.Write(served)
	}))
	t.Cleanup(pprofSrv.Close)

	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "DD_"), strings.HasPrefix(name, "PGOFETCH"),
			name == "SSL_CERT_FILE", name == "CURL_CA_BUNDLE", strings.HasSuffix(strings.ToLower(name), "_proxy"):
			continue
		case name == "PATH":
			kv = "PATH=" + bin + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
		env = append(env, kv)
	}
	env = append(env, "NO_COLOR=1",
		"PGOFETCH_API_URL="+dd.URL(), "SSL_CERT_FILE="+ca,
		"DD_API_KEY="+dd.APIKey(), "DD_APP_KEY="+dd.AppKey())
	return &sandboxEnv{
		env: env,
		replacer: strings.NewReplacer(
			"DD_API_KEY=...", "DD_API_KEY="+dd.APIKey(),
			"DD_APP_KEY=...", "DD_APP_KEY="+dd.AppKey(),
			"localhost:6060", strings.TrimPrefix(pprofSrv.URL, "http://"),
		),
		files: sandboxFiles(t),
	}
}

var mainGo = `package main

import "fmt"

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func main() { fmt.Println(fib(20)) }
`

// sandboxFiles are the files every sandbox starts with.
func sandboxFiles(t *testing.T) map[string][]byte {
	gz := fakedd.SyntheticCPUProfile(1, 2, time.Minute)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var zs bytes.Buffer
	enc, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	enc.Write(raw)
	enc.Close()
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, err := zw.Create("p3.pprof")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(fakedd.SyntheticCPUProfile(3, 1, time.Minute))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"go.mod":          []byte("module example.com/foo\n\ngo 1.21\n"),
		"cmd/foo/main.go": []byte(mainGo),
		"cpu1.pprof":      gz,
		"cpu2.pprof.zst":  zs.Bytes(),
		"more.zip":        zipBuf.Bytes(),
	}
}

var runMu sync.Mutex // one block at a time: the machine is shared

func (e *sandboxEnv) run(t *testing.T, b block) {
	words := strings.Fields(b.tag)[1:]
	dir := t.TempDir()
	if slices.Contains(words, "in=repo") {
		dir = testenv.RepoRoot(t)
	} else {
		e.populate(t, dir)
	}
	script := "set -eu\n" + e.replacer.Replace(b.text)
	runMu.Lock()
	defer runMu.Unlock()
	// A bound for a block that hangs, not a speed check: README's make demo
	// builds and measures for minutes, longer beside other test packages.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	report := "block:\n" + b.text + "stdout:\n" + stdout.String() + "stderr:\n" + stderr.String()
	if err != nil {
		t.Fatalf("%s: %v\n%s", b, err, report)
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "ERR ") || strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("%s: pgofetch logged an error (fail-open hid it from the exit code)\n%s", b, report)
			break
		}
	}
	for _, f := range words {
		if f == "in=repo" {
			continue
		}
		path, ok := strings.CutPrefix(f, "creates=")
		if !ok {
			t.Errorf("%s: unknown word %q after `test` (want in=repo or creates=PATH)", b, f)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: the block did not leave %s behind (%v)\n%s", b, path, err, report)
			continue
		}
		if strings.HasSuffix(path, ".pgo") {
			p, err := profile.ParseData(data)
			if err != nil || len(p.Sample) == 0 {
				t.Errorf("%s: %s is not a profile with samples (%v)", b, path, err)
			}
		}
	}
}

// populate writes the sandbox's files into dir.
func (e *sandboxEnv) populate(t *testing.T, dir string) {
	for name, data := range e.files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
