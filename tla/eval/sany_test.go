package eval

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/syntax"
)

// TestDifferentialSANY mutates the conformance modules (one line deleted or
// one token duplicated) and compares what our front end (parse, load,
// resolve) accepts with what SANY, TLA+'s reference parser in TLC's jar,
// accepts. It starts a JVM per mutant, so it runs only with
// VERIMETER_SANY_MUTANTS=N (N mutants per module).
func TestDifferentialSANY(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("VERIMETER_SANY_MUTANTS"), &n)
	if n <= 0 {
		t.Skip("set VERIMETER_SANY_MUTANTS=N to compare with SANY on N mutants per module")
	}
	jar, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "tools", "tlc", "tla2tools.jar"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not found (make deps installs it): %v", err)
	}
	src := conformanceDir(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var files []string
	filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".tla") {
			files = append(files, p)
		}
		return err
	})
	agree, disagree, proofs := 0, 0, 0
	for _, f := range files {
		orig, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(orig, []byte("\n"))
		var skipped [][2]int // proofs, which our parser skips by design
		if m, err := syntax.ParseModule(f, orig); err == nil {
			skipped = m.Skipped
		}
		for k := 0; k < n; k++ {
			dir := t.TempDir()
			// Copy the siblings so EXTENDS and INSTANCE resolve.
			sib, _ := filepath.Glob(filepath.Join(filepath.Dir(f), "*.tla"))
			for _, s := range sib {
				b, _ := os.ReadFile(s)
				os.WriteFile(filepath.Join(dir, filepath.Base(s)), b, 0o644)
			}
			mut := make([][]byte, 0, len(lines)+1)
			i := rng.IntN(len(lines))
			what := ""
			if rng.IntN(2) == 0 {
				mut = append(append(mut, lines[:i]...), lines[i+1:]...)
				what = fmt.Sprintf("line %d deleted", i+1)
			} else {
				mut = append(append(append(mut, lines[:i+1]...), lines[i]), lines[i+1:]...)
				what = fmt.Sprintf("line %d doubled", i+1)
			}
			path := filepath.Join(dir, filepath.Base(f))
			os.WriteFile(path, bytes.Join(mut, []byte("\n")), 0o644)
			ours := true
			s, err := Load(path)
			if err == nil {
				err = s.Resolve()
			}
			if err != nil {
				ours = false
			}
			cmd := exec.Command("java", "-cp", jar, "tla2sany.SANY", filepath.Base(path))
			cmd.Dir = dir
			out, _ := cmd.CombinedOutput()
			sany := !bytes.Contains(out, []byte("*** Errors")) && !bytes.Contains(out, []byte("Fatal errors")) &&
				!bytes.Contains(out, []byte("Semantic errors")) && !bytes.Contains(out, []byte("Could not parse"))
			if ours == sany {
				agree++
				continue
			}
			if inSpans(skipped, i+1) && ours && !sany {
				proofs++ // a broken proof: we skip proofs, SANY parses them
				continue
			}
			disagree++
			t.Errorf("%s (%s): ours accepts=%v (%v), SANY accepts=%v:\n%s", f, what, ours, err, sany, lastLines(out, 12))
		}
	}
	t.Logf("%d mutants agree, %d disagree, %d differ only inside a skipped proof", agree, disagree, proofs)
}

func lastLines(b []byte, n int) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func inSpans(spans [][2]int, line int) bool {
	for _, s := range spans {
		if line >= s[0] && line <= s[1] {
			return true
		}
	}
	return false
}
