package syntax

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceDir finds the shared TLA+ examples relative to the repository
// root (the test runs in tla/syntax), or $VERIMETER_CONFORMANCE.
func conformanceDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VERIMETER_CONFORMANCE")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "conformance", "tla-examples")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("conformance examples missing (%v): set VERIMETER_CONFORMANCE", err)
	}
	return dir
}

func TestParseAllExamples(t *testing.T) {
	dir := conformanceDir(t)
	var files []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(path, ".tla") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	own, _ := filepath.Glob(filepath.Join("..", "..", "spec", "*.tla"))
	files = append(files, own...)
	if len(files) < 40 {
		t.Fatalf("only %d .tla files found in %s", len(files), dir)
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseModule(path, src)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(path), ".tla"); m.Name != want {
			t.Errorf("%s: module name %q, want %q", path, m.Name, want)
		}
	}
}
