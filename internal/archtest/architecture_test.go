package archtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ARCHITECTURE.md is a newcomer's map; these tests keep it true. A map that
// names a function since renamed, or an import table the code has left,
// sends a newcomer to the wrong place with confidence.

const root = "../.."

func readArchitecture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatalf("ARCHITECTURE.md: %v", err)
	}
	return fence.ReplaceAllString(string(b), "")
}

// fence matches a fenced block (the data-flow drawing), whose backquote
// fences are not code spans.
var fence = regexp.MustCompile("(?s)```.*?```")

// notYet are paths the map names before they exist: internal/sim is
// forbidden to production packages by TestProductionLinksNoSimulation
// ahead of its arrival.
var notYet = map[string]bool{"internal/sim": true}

var (
	codeSpan = regexp.MustCompile("`([^`]+)`")
	fileName = regexp.MustCompile(`^([\w./-]+\.(go|tla)):(\w+)$`)
	testName = regexp.MustCompile(`^Test\w+$`)
)

// TestArchitectureNamesExist: every path, file:function and test name the
// map gives in backquotes exists (a .go name as a function or method, a
// .tla name as a definition).
func TestArchitectureNamesExist(t *testing.T) {
	doc := readArchitecture(t)
	tests := allTestNames(t)
	checked := 0
	for _, m := range codeSpan.FindAllStringSubmatch(doc, -1) {
		span := m[1]
		switch {
		case strings.ContainsAny(span, " <*(") || strings.HasPrefix(span, "../") || strings.HasPrefix(span, "//"):
			continue // commands, patterns, generated names, outside the repository
		case fileName.MatchString(span):
			f := fileName.FindStringSubmatch(span)
			src, err := os.ReadFile(filepath.Join(root, f[1]))
			if err != nil {
				t.Errorf("ARCHITECTURE.md names %s: %v", span, err)
				continue
			}
			def := `(?m)^func (\([^)]*\) )?` + f[3] + `[\[(]`
			if f[2] == "tla" {
				def = `(?m)^` + f[3] + `\b[^=\n]*==`
			}
			if !regexp.MustCompile(def).Match(src) {
				t.Errorf("ARCHITECTURE.md names %s: %s defines no %s", span, f[1], f[3])
			}
		case testName.MatchString(span):
			if !tests[span] {
				t.Errorf("ARCHITECTURE.md names %s: no test of that name", span)
			}
		case strings.Contains(span, "/") || strings.HasSuffix(span, ".md") || strings.HasSuffix(span, ".go"):
			p := strings.TrimSuffix(strings.TrimSuffix(span, "/..."), "/")
			if notYet[p] {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("ARCHITECTURE.md names %s: %v", span, err)
			}
		default:
			continue
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d names checked: the map's notation changed and this test no longer reads it", checked)
	}
}

// allTestNames lists the Test functions of every _test.go file.
func allTestNames(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// mapped reports whether the import table covers a package: everything
// but cmd/, fuzz/, internal/, spec and packages under an internal/.
func mapped(rel string) bool {
	for _, p := range []string{"cmd", "fuzz", "internal", "spec"} {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return false
		}
	}
	return !strings.Contains(rel, "/internal/")
}

// TestArchitectureImportTable: the table "package | imports" lists every
// mapped package with exactly the module packages it imports (go list,
// production files only).
func TestArchitectureImportTable(t *testing.T) {
	doc := readArchitecture(t)
	table := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(doc))
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "| package | imports |") {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			t.Fatalf("import table row %q", line)
		}
		pkg := strings.Trim(strings.TrimSpace(cells[1]), "`")
		var imps []string
		for _, m := range codeSpan.FindAllStringSubmatch(cells[2], -1) {
			imps = append(imps, m[1])
		}
		slices.Sort(imps)
		table[pkg] = imps
	}
	if len(table) == 0 {
		t.Fatal("ARCHITECTURE.md has no table headed | package | imports |")
	}

	// -pgo=off: imports as written, not the variants compiled with
	// cmd/verimeter's default.pgo ("bufio [.../cmd/verimeter]").
	cmd := exec.Command("go", "list", "-pgo=off", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		rel, ok := strings.CutPrefix(f[0], module+"/")
		if !ok || !mapped(rel) {
			continue
		}
		seen[rel] = true
		var imps []string
		for _, imp := range f[1:] {
			if r, ok := strings.CutPrefix(imp, module+"/"); ok {
				imps = append(imps, r)
			}
		}
		slices.Sort(imps)
		want, listed := table[rel]
		switch {
		case !listed:
			t.Errorf("ARCHITECTURE.md: package %s is missing from the import table (it imports %v)", rel, imps)
		case !slices.Equal(want, imps):
			t.Errorf("ARCHITECTURE.md: the import table says %s imports %v; it imports %v", rel, want, imps)
		}
	}
	for pkg := range table {
		if !seen[pkg] {
			t.Errorf("ARCHITECTURE.md: the import table lists %s, which is not a mapped package of the module", pkg)
		}
	}
}
