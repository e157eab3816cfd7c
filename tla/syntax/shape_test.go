package syntax

import (
	"errors"
	"strings"
	"testing"
)

func parseExprDef(t *testing.T, body string) Expr {
	t.Helper()
	src := "---- MODULE T ----\nX ==\n" + body + "\n====\n"
	m, err := ParseModule("t.tla", []byte(src))
	if err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	return m.Units[0].(*Def).Body
}

func TestJunctionListsByColumn(t *testing.T) {
	e := parseExprDef(t, "  /\\ a\n  /\\ \\/ b\n     \\/ c\n  /\\ d")
	j, ok := e.(*Junction)
	if !ok || j.Op != "/\\" || len(j.Items) != 3 {
		t.Fatalf("got %#v", e)
	}
	inner, ok := j.Items[1].(*Junction)
	if !ok || inner.Op != "\\/" || len(inner.Items) != 2 {
		t.Fatalf("second item %#v", j.Items[1])
	}
}

func TestPrecedence(t *testing.T) {
	e := parseExprDef(t, "a + b * c = d /\\ e \\in S \\cup T")
	j := e.(*Junction)
	eq := j.Items[0].(*OpApp)
	if eq.Op != "=" {
		t.Fatalf("top of first item %q", eq.Op)
	}
	plus := eq.Args[0].(*OpApp)
	if plus.Op != "+" || plus.Args[1].(*OpApp).Op != "*" {
		t.Fatalf("a + b * c parsed as %#v", plus)
	}
	in := j.Items[1].(*OpApp)
	if in.Op != "\\in" || in.Args[1].(*OpApp).Op != "\\cup" {
		t.Fatalf("e \\in S \\cup T parsed as %#v", in)
	}
}

func TestConstructors(t *testing.T) {
	cases := []struct {
		src  string
		want func(Expr) bool
	}{
		{"[x \\in S |-> x + 1]", func(e Expr) bool { f, ok := e.(*FuncCons); return ok && f.Bounds[0].Names[0] == "x" }},
		{"[S -> T]", func(e Expr) bool { _, ok := e.(*FuncSet); return ok }},
		{"[a |-> 1, b |-> 2]", func(e Expr) bool { r, ok := e.(*Record); return ok && len(r.Fields) == 2 }},
		{"[a : S, b : T]", func(e Expr) bool { r, ok := e.(*RecordSet); return ok && r.Fields[1] == "b" }},
		{"[f EXCEPT ![1].a = @ + 1, ![2] = 0]", func(e Expr) bool {
			x, ok := e.(*Except)
			return ok && len(x.Updates) == 2 && len(x.Updates[0].Path) == 2 && x.Updates[0].Path[1].Field == "a"
		}},
		{"{x \\in S : x > 1}", func(e Expr) bool { _, ok := e.(*SetFilter); return ok }},
		{"{<<x, y>> \\in S \\X T : x > y}", func(e Expr) bool { f, ok := e.(*SetFilter); return ok && f.Bound.Tuple }},
		{"{x + 1 : x \\in S}", func(e Expr) bool { _, ok := e.(*SetMap); return ok }},
		{"{1, 2, 3}", func(e Expr) bool { s, ok := e.(*SetEnum); return ok && len(s.Elems) == 3 }},
		{"S \\X T \\X U", func(e Expr) bool { x, ok := e.(*Times); return ok && len(x.Sets) == 3 }},
		{"(S \\X T) \\X U", func(e Expr) bool { x, ok := e.(*Times); return ok && len(x.Sets) == 2 }},
		{"[Next]_vars", func(e Expr) bool { b, ok := e.(*BoxAction); return ok && !b.Angle }},
		{"<<A>>_<<x, y>>", func(e Expr) bool { b, ok := e.(*BoxAction); return ok && b.Angle }},
		{"WF_vars(Next)", func(e Expr) bool { f, ok := e.(*Fairness); return ok && f.Kind == "WF" }},
		{"CASE a -> 1 [] b -> 2 [] OTHER -> 3", func(e Expr) bool { c, ok := e.(*Case); return ok && len(c.Arms) == 2 && c.Other != nil }},
		{"LET f[n \\in Nat] == IF n = 0 THEN 1 ELSE n * f[n-1] IN f[3]", func(e Expr) bool { l, ok := e.(*Let); return ok && len(l.Defs[0].FnBounds) == 1 }},
		{"\\A x, y \\in S, <<a, b>> \\in T : x", func(e Expr) bool {
			q, ok := e.(*Quant)
			return ok && len(q.Bounds) == 2 && len(q.Bounds[0].Names) == 2 && q.Bounds[1].Tuple
		}},
		{"CHOOSE x \\in S : TRUE", func(e Expr) bool { q, ok := e.(*Quant); return ok && q.Kind == "CHOOSE" }},
		{"M!Op(1)!B", func(e Expr) bool { r, ok := e.(*Ref); return ok && len(r.Parts) == 3 && len(r.Parts[1].Args) == 1 }},
		{"Inv!1", func(e Expr) bool { r, ok := e.(*Ref); return ok && r.Parts[1].Name == "1" }},
		{"x' = x + 1", func(e Expr) bool { o, ok := e.(*OpApp); return ok && o.Args[0].(*OpApp).Op == "'" }},
		{"r.a.b[1]", func(e Expr) bool { a, ok := e.(*Apply); return ok && a.Fn.(*Dot).Field == "b" }},
		{"-x + 1", func(e Expr) bool { o, ok := e.(*OpApp); return ok && o.Op == "+" && o.Args[0].(*OpApp).Op == "-." }},
		{"F(LAMBDA a, b : a + b, +)", func(e Expr) bool {
			r, ok := e.(*Ref)
			return ok && len(r.Parts[0].Args) == 2 && r.Parts[0].Args[1].(*OpArg).Op == "+"
		}},
		{"[][Next]_v /\\ <>P ~> Q", func(e Expr) bool { o, ok := e.(*OpApp); return ok && o.Op == "~>" }},
	}
	for _, c := range cases {
		if e := parseExprDef(t, c.src); !c.want(e) {
			t.Errorf("%s: unexpected tree %#v", c.src, e)
		}
	}
}

func TestModuleUnits(t *testing.T) {
	src := `text before the module is ignored
---- MODULE M ----
EXTENDS Naturals, Sequences
CONSTANTS N, F(_, _)
VARIABLES x, y
ASSUME NPos == N > 0
RECURSIVE Sum(_)
Sum(s) == IF s = {} THEN 0 ELSE LET e == CHOOSE v \in s : TRUE IN e + Sum(s \ {e})
a ++ b == a + b
LOCAL I == INSTANCE Other WITH c <- N, d <- x
INSTANCE Other
THEOREM T == x = x
<1>1. x = x
  OBVIOUS
<1>2. QED BY <1>1 DEF Sum
LEMMA U == ASSUME NEW k \in Nat PROVE k >= 0
  OBVIOUS
OpToRel(_\prec_, S) == {s \in S : s \prec s}
---- MODULE Inner ----
Z == 1
====
f[i \in 1..N] == i
====
after the end is ignored`
	m, err := ParseModule("m.tla", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Extends) != 2 || len(m.Constants) != 2 || m.Constants[1].Arity != 2 || len(m.Variables) != 2 {
		t.Fatalf("declarations: %+v %+v %+v", m.Extends, m.Constants, m.Variables)
	}
	var names []string
	for _, u := range m.Units {
		switch u := u.(type) {
		case *Def:
			names = append(names, u.Name)
		case *Assume:
			names = append(names, "ASSUME "+u.Name)
		case *Instance:
			names = append(names, "INSTANCE "+u.Module)
		}
	}
	got := strings.Join(names, ",")
	// The named theorem T is also the definition T == x = x; U, stated
	// with ASSUME ... PROVE, is no expression and only skipped.
	if want := "ASSUME NPos,Sum,++,I,INSTANCE Other,T,OpToRel,f"; got != want {
		t.Fatalf("units %s, want %s", got, want)
	}
	if m.Ignored == 0 || len(m.Submodules) != 1 || m.Submodules[0].Name != "Inner" {
		t.Fatalf("ignored %d, submodules %d", m.Ignored, len(m.Submodules))
	}
}

func TestErrorsHavePositions(t *testing.T) {
	cases := []struct{ src, want string }{
		{"---- MODULE M ----\nX == 1 +\n====\n", "m.tla:3:1: "},
		{"---- MODULE M ----\nX == [a |-> ]\n====\n", "m.tla:2:13: "},
		{"---- MODULE M ----\nX == \"abc\n====\n", "m.tla:2:6: string not closed"},
		{"---- MODULE M ----\nX == (* open\n", "m.tla:2:6: comment (* not closed"},
		{"---- MODULE M ----\nX == 1\n", "module"},
		{"no module here", "m.tla:1:1: no ---- MODULE header"},
		{"---- MODULE M ----\nX == {x \\in S : }\n====\n", "m.tla:2:17: "},
	}
	for _, c := range cases {
		_, err := ParseModule("m.tla", []byte(c.src))
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v is not a *syntax.Error", c.src, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q, want it to contain %q", c.src, err, c.want)
		}
	}
}

func TestDeepNestingIsAnError(t *testing.T) {
	src := "---- MODULE M ----\nX == " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000) + "\n====\n"
	if _, err := ParseModule("m.tla", []byte(src)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("got %v", err)
	}
}
