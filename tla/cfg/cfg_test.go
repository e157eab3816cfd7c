package cfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceDir is where the TLA+ example models live (issue 3): tests read
// them from there and never copy them into the repository.
func conformanceDir(t *testing.T) string {
	if d := os.Getenv("VERIMETER_CONFORMANCE"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../../shared/conformance/tla-examples")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("conformance models not found at %s (set VERIMETER_CONFORMANCE): %v", d, err)
	}
	return d
}

func TestParsesEveryConformanceAndSpecModel(t *testing.T) {
	var files []string
	filepath.WalkDir(conformanceDir(t), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".cfg") {
			files = append(files, p)
		}
		return nil
	})
	own, _ := filepath.Glob("../../spec/*.cfg")
	large, _ := filepath.Glob("../../spec/large/*.cfg")
	files = append(append(files, own...), large...)
	if len(files) < 25 {
		t.Fatalf("only %d configuration files found", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(f, src)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if c.Specification == nil && c.Init == nil {
			t.Errorf("%s: no behaviour found", f)
		}
	}
}

func TestParseAllSections(t *testing.T) {
	src := `(* a model (* with a nested comment *) *)
CONSTANTS
  N = 3   \* an integer
  Neg = -2
  Name = "a \"quoted\" name"
  Procs = {p1, p2}
  Empty = {}
  Pair = <<1, {a}, "x">>
  Flag = TRUE
  NoVal = NoVal
  Nat <- NatOverride
  Ballot <-[Voting] MCBallot
CONSTANT Extra = 1
SPECIFICATION Spec
INVARIANT TypeOK
INVARIANTS Safe1 Safe2
PROPERTY Live
CONSTRAINT Bound
ACTION_CONSTRAINT Step
SYMMETRY Perms
VIEW V
ALIAS A
POSTCONDITION P
CHECK_DEADLOCK FALSE
`
	c, err := Parse("m.cfg", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range c.Constants {
		switch {
		case k.Value != nil:
			got[k.Name] = k.Value.String()
		case k.Module != "":
			got[k.Name] = "<-[" + k.Module + "]" + k.Def
		default:
			got[k.Name] = "<-" + k.Def
		}
	}
	want := map[string]string{"N": "3", "Neg": "-2", "Name": `"a \"quoted\" name"`, "Procs": "{p1, p2}", "Empty": "{}", "Pair": `<<1, {a}, "x">>`,
		"Flag": "TRUE", "NoVal": "NoVal", "Nat": "<-NatOverride", "Ballot": "<-[Voting]MCBallot", "Extra": "1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("constant %s = %s, want %s", k, got[k], v)
		}
	}
	if c.Specification.Name != "Spec" || len(c.Invariants) != 3 || c.Properties[0].Name != "Live" || c.Constraints[0].Name != "Bound" ||
		c.ActionConstraints[0].Name != "Step" || c.Symmetry.Name != "Perms" || c.View.Name != "V" || c.Alias.Name != "A" ||
		c.Postcondition.Name != "P" || c.CheckDeadlock == nil || *c.CheckDeadlock {
		t.Fatalf("sections: %+v", c)
	}
	if p := c.Invariants[1].Pos; p.Line != 16 || p.Col != 12 {
		t.Fatalf("position of Safe1: %v", p)
	}
}

func TestErrorsNamePositionAndReason(t *testing.T) {
	cases := []struct{ src, want string }{
		{"CONSTANTS\n  N == 3", "m.cfg:2:5: expected = or <- after constant N"},
		{"INIT Init\n", "INIT and NEXT go together"},
		{"SPECIFICATION Spec\nINIT I\nNEXT N", "m.cfg:1:15: SPECIFICATION and INIT/NEXT are exclusive"},
		{"CHECK_DEADLOCK maybe", "m.cfg:1:16: CHECK_DEADLOCK takes TRUE or FALSE"},
		{"CONSTANTS S = {a, b", "expected , or the end of the set"},
		{"(* open", "m.cfg:1:1: comment (* not closed"},
		{"CONSTANTS N = 99999999999", "out of TLC's 32-bit range"},
		{"INVARIANT @", "unexpected character '@'"},
		{"SPECIFICATION Spec\nSPECIFICATION Other", "m.cfg:2:1: SPECIFICATION given twice"},
		{"Spec", "m.cfg:1:1: expected a section keyword"},
	}
	for _, c := range cases {
		_, err := Parse("m.cfg", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"CONSTANTS N = 3\nINIT Init\nNEXT Next\nINVARIANT TypeOK\n",
		"SPECIFICATION Spec\nPROPERTY Live\nCHECK_DEADLOCK FALSE\n",
		"CONSTANTS\n  Procs = {p1, p2}\n  Nat <- NatOverride\n  B <-[M] D\n  T = <<1, \"s\", {}>>\n",
		"(* x (* y *) *) \\* z\nSYMMETRY S VIEW V ALIAS A POSTCONDITION P\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("f.cfg", src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) || pe.Pos.Line < 1 || pe.Pos.Col < 1 {
				t.Fatalf("error without a position or class: %v", err)
			}
			return
		}
		// Whatever parses re-parses from its printed constants, to the same
		// value (parse∘print = identity, positions aside).
		for _, k := range c.Constants {
			if k.Value == nil {
				continue
			}
			c2, err := Parse("g.cfg", []byte("CONSTANTS X = "+k.Value.String()))
			if err != nil {
				t.Fatalf("value %s does not re-parse: %v", k.Value, err)
			}
			if len(c2.Constants) != 1 || c2.Constants[0].Value == nil || !sameValue(*k.Value, *c2.Constants[0].Value) {
				t.Fatalf("value %s re-parses as %+v", k.Value, c2.Constants)
			}
		}
	})
}

// sameValue reports whether a and b are the same configuration value,
// wherever they were written.
func sameValue(a, b Value) bool {
	if a.Kind != b.Kind || a.Int != b.Int || a.Str != b.Str || a.Bool != b.Bool || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !sameValue(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}
