package tests

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"pgofetch/tests/internal/testenv"
)

// outsidePath matches a path to a "shared" directory beside the repository,
// written as a path or as filepath.Join's arguments. It is assembled here so
// that this file does not name what it looks for.
var outsidePath = regexp.MustCompile(`\.\.(/|\\|"\s*,\s*")` + "sha" + `red\b`)

// TestSelfContained: no tracked file names a directory beside the
// repository. A fresh clone has none, so a test, script or link that reads
// one works only where the repository was developed.
func TestSelfContained(t *testing.T) {
	root := testenv.RepoRoot(t)
	files := repoFiles(t, root)
	if len(files) < 50 {
		t.Fatalf("found only %d files under %s: the listing is broken", len(files), root)
	}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			if os.IsNotExist(err) { // deleted in the work tree, not yet committed
				continue
			}
			t.Fatal(err)
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			continue // binary, as git decides
		}
		for i, line := range strings.Split(string(data), "\n") {
			if outsidePath.MatchString(line) {
				t.Errorf("%s:%d names a directory outside the repository: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// repoFiles lists the repository's files relative to root: git's tracked
// files in a clone, else (a source archive) every file but build outputs.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
		out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
		if err != nil {
			t.Fatalf("git ls-files: %v", err)
		}
		return strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == ".cache" ||
				strings.HasPrefix(name, "build") && filepath.Dir(rel) == "." {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
