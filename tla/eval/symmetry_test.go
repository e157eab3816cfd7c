package eval

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/cfg"
	"github.com/verimeter/verimeter/tla/check"
)

// TLC's (2.19) counts for Sym.tla: the SYMMETRY set Permutations(P) \cup
// Permutations(V) has 7 elements but generates a group of 12, which TLC
// uses; with VIEW as well, the view of the smallest state is fingerprinted.
// (The variable aval was val, but TLC ranks a variable named val first,
// see Machine.Fingerprint, and then counts 12 states with both.)
func TestSymmetryAndViewCounts(t *testing.T) {
	file := filepath.Join("testdata", "symmetry", "Sym.tla")
	base := "CONSTANTS P = {p1, p2, p3}\nV = {v1, v2}\nNoV = NoV\nINIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n"
	cases := []struct {
		extra               string
		distinct, generated int64
	}{
		{"", 125, 451},
		{"SYMMETRY Perms\n", 19, 71},
		{"SYMMETRY PermsP\n", 35, 127},
		{"VIEW View\n", 27, 109},
		{"SYMMETRY Perms\nVIEW View\n", 10, 41},
	}
	for _, tc := range cases {
		res := checkCfg(t, file, base+tc.extra)
		if res.Distinct != tc.distinct || res.Generated != tc.generated {
			t.Errorf("%q: %d distinct, %d generated; TLC: %d, %d", tc.extra, res.Distinct, res.Generated, tc.distinct, tc.generated)
		}
	}
}

func TestExactModeRefusesSymmetry(t *testing.T) {
	spec := loadSym(t)
	c, err := cfg.Parse("T.cfg", []byte("CONSTANTS P = {p1, p2}\nV = {v1}\nNoV = NoV\nINIT Init\nNEXT Next\nSYMMETRY Perms\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(spec, c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Run(context.Background(), m, check.Options{Exact: true})
	if err == nil || res.Verdict != check.EvalError {
		t.Fatalf("exact mode with SYMMETRY: %v, %v", res.Verdict, err)
	}
}

// TestFingerprintsValuesOnly: without a VIEW the fingerprint of a state is
// a function of its values (with SYMMETRY, their orbit's), so the checker
// may skip a successor made of its parent's values (the self-loops of
// check); a VIEW may read TLCGet("level") and turns that off.
func TestFingerprintsValuesOnly(t *testing.T) {
	spec := loadSym(t)
	base := "CONSTANTS P = {p1, p2}\nV = {v1}\nNoV = NoV\nINIT Init\nNEXT Next\n"
	for extra, want := range map[string]bool{"": true, "SYMMETRY Perms\n": true, "VIEW View\n": false, "SYMMETRY Perms\nVIEW View\n": false} {
		c, err := cfg.Parse("T.cfg", []byte(base+extra))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Build(spec, c)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.FingerprintsValuesOnly(); got != want {
			t.Errorf("%q: FingerprintsValuesOnly %v, want %v", extra, got, want)
		}
	}
}

// loadSym loads and resolves testdata/symmetry/Sym.tla.
func loadSym(t *testing.T) *Spec {
	t.Helper()
	spec, err := Load(filepath.Join("testdata", "symmetry", "Sym.tla"))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Resolve(); err != nil {
		t.Fatal(err)
	}
	return spec
}
