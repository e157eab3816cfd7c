package gen

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/verimeter/verimeter/tla/syntax"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenParseType(t *testing.T) {
	aliases := map[string]aliasAnnot{"ITEM": {Type: "[r: Int, signed: Bool]"}}
	for _, c := range []struct{ in, want string }{
		{"Int", "Int"},
		{"Set(Int)", "Set(Int)"},
		{" Set([k: Int, c: Int, auth: Bool]) ", "Set([k: Int, c: Int, auth: Bool])"},
		{"Set(ITEM)", "Set([r: Int, signed: Bool])"},
		{"Seq(Str)", "Seq(Str)"},
		{"Set(<<Int, Str>>)", "Set(<<Int, Str>>)"},
	} {
		got, d := parseType(posAt(1), c.in, aliases)
		if d != nil || got.String() != c.want {
			t.Errorf("parseType(%q) = %v, %v; want %s", c.in, got, d, c.want)
		}
	}
	for _, c := range []struct{ in, msg string }{
		{"Set(MANIFEST)", "undefined alias MANIFEST"},
		{"Set(Int", "want ) closing Set("},
		{"[a Int]", "want : after field a"},
		{"Int Int", "unexpected"},
	} {
		_, d := parseType(posAt(7), c.in, aliases)
		if d == nil || !strings.Contains(d.Msg, c.msg) {
			t.Errorf("parseType(%q): %v, want %q", c.in, d, c.msg)
		}
	}
}

func TestGenAnnotationsPositions(t *testing.T) {
	src := "VARIABLES\n    \\* @type: Set(ITEM); @role: gateway; @persist\n    queue,\n    \\* @type: Int; @role: meter, gateway\n    key\n\\* @role: meter @event: receive(m, n)\n\\* a comment\nReceive(m, n) == TRUE\n\\* @role meter\n"
	a, diags := scanAnnotations("spec/X.tla", []byte(src))
	if v := a.Vars["queue"]; v == nil || !v.Persist || v.Type != "Set(ITEM)" || v.TypePos.Line != 2 || v.TypePos.Col != 15 {
		t.Errorf("queue: %+v", v)
	}
	if v := a.Vars["key"]; v == nil || len(v.Roles) != 2 {
		t.Errorf("key: %+v", v)
	}
	if x := a.Actions["Receive"]; x == nil || x.Event != "receive" || strings.Join(x.Params, ",") != "m,n" {
		t.Errorf("Receive: %+v", x)
	}
	if len(diags) != 1 || diags[0].Pos.Line != 9 {
		t.Errorf("diags = %v, want the malformed annotation on line 9", diags)
	}
}

// module writes spec/T.tla with one meter action body into a temp dir.
func module(t *testing.T, action string) string {
	t.Helper()
	dir := specTempDir(t)
	src := `---- MODULE T ----
EXTENDS Naturals
CONSTANTS MaxN, Mutant, Block
VARIABLES
    \* @type: Int; @role: meter; @persist
    x,
    \* @type: Set(Int); @role: meter
    s,
    \* @type: Int; @role: gateway
    g
Init == x = 0 /\ s = {} /\ g = 0
\* @role: meter @event: act
Act ==
` + action + `
====
`
	if err := os.WriteFile(filepath.Join(dir, "T.tla"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func generateT(dir string) ([]byte, []Diag, error) {
	return GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"T"}}, nil)
}

// TestOutsideSubsetIsPositioned: every construct the generator cannot
// translate, every convention it enforces, is an error at file:line:col.
func TestGenOutsideSubsetIsPositioned(t *testing.T) {
	for _, c := range []struct{ action, want string }{
		{"  /\\ \\E i \\in s : i > x\n  /\\ UNCHANGED <<x, s, g>>", "spec/T.tla:14:6: a quantifier is outside the generator's subset"},
		{"  /\\ x' = g\n  /\\ UNCHANGED <<s, g>>", "spec/T.tla:14:11: action of role meter reads g of role gateway"},
		{"  /\\ g' = 1\n  /\\ UNCHANGED <<x, s>>", "spec/T.tla:14:6: action Act of role meter writes g of role gateway"},
		{"  /\\ x' = 1\n  /\\ UNCHANGED <<s>>", "spec/T.tla:13:1: action Act does not determine g'"},
		{"  /\\ Mutant = \"weak\"\n  /\\ x' = 1\n  /\\ UNCHANGED <<s, g>>", "spec/T.tla:13:1: action Act is never enabled"},
		{"  /\\ x' = TRUE\n  /\\ UNCHANGED <<s, g>>", "spec/T.tla:14:6: x is Int, assigned Bool"},
		{"  /\\ x' = CHOOSE i \\in s : TRUE\n  /\\ UNCHANGED <<s, g>>", "spec/T.tla:14:"},
		{"  /\\ {i \\in s : i > 1} = {}\n  /\\ UNCHANGED <<x, s, g>>", "spec/T.tla:14:6: a set comprehension is outside the generator's subset"},
		{"  /\\ s' = {i \\in s : i > g}\n  /\\ UNCHANGED <<x, g>>", "spec/T.tla:14:26: action of role meter reads g of role gateway"},
		{"  /\\ x' > x\n  /\\ UNCHANGED <<s, g>>", "spec/T.tla:14:6: primed variables are translated only"},
		{"  /\\ IF x > 0 THEN x' = 1 ELSE UNCHANGED s\n  /\\ UNCHANGED g", "spec/T.tla:14:6: the THEN branch determines x', the ELSE branch does not"},
		{"  /\\ IF x > 0 THEN /\\ x' = 1 /\\ x < MaxN  \\* @bound\n                   ELSE x' = 2\n  /\\ UNCHANGED <<s, g>>", "a model bound inside an IF branch cannot be dropped"},
	} {
		_, _, err := generateT(module(t, c.action))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("action\n%s\nerr = %v\nwant %q", c.action, err, c.want)
		}
	}
}

// TestTranslation: mutant-only disjuncts are dropped, bounds are dropped and
// listed, guards keep their TLA+ text and position, output is gofmt-clean
// and deterministic.
func TestGenTranslation(t *testing.T) {
	dir := module(t, `  /\ x > 0 \/ Mutant = "weak"
  /\ x < MaxN  \* @bound
  /\ IF Mutant = "weak" THEN TRUE ELSE x \notin s
  /\ x' = x + Block
  /\ s' = (s \cup {x, 2}) \ {1}
  /\ UNCHANGED g`)
	src, _, err := generateT(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, _, _ := generateT(dir)
	if !bytes.Equal(src, again) {
		t.Fatal("generation is not deterministic")
	}
	if f, err := format.Source(src); err != nil || !bytes.Equal(f, src) {
		t.Fatalf("not gofmt-clean: %v", err)
	}
	if !bytes.HasPrefix(src, []byte(Header+"\n")) {
		t.Fatal("missing header")
	}
	for _, want := range []string{
		`Conjunct: "x > 0 (spec/T.tla:14:6)"`,
		`Conjunct: "x \\notin s (spec/T.tla:16:40)"`,
		"Model bounds dropped: x < MaxN (spec/T.tla:15:6).",
		"nx.X = statemachine.Add(&ovf, s.X, p.Block)",
		"if !nx.S.Insert(s.X, statemachine.CompareInt) {",
		"nx.S.Remove(1, statemachine.CompareInt)",
		"Block int64 `tla:\"Block\"`",
		"X int64 `tla:\"x\" json:\"x\"`",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(string(src), "weak") {
		t.Error("a mutant-only disjunct survived")
	}
}

// TestMutationChangesCode: the mutation helpers change exactly the code
// they name.
func TestGenMutationChangesCode(t *testing.T) {
	dir := module(t, "  /\\ x > 0\n  /\\ x' = x + 1\n  /\\ UNCHANGED <<s, g>>")
	base, _, err := generateT(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Mutation{{Action: "Act", Guard: 1}, {Action: "Act", Assign: "x"}} {
		src, _, err := GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"T"}}, &m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(src, base) {
			t.Errorf("mutation %+v changes nothing", m)
		}
	}
}

// TestSpecDiagnostics pins the convention violations gen reports on the
// spec today, so a change to the spec shows up here.
func TestGenSpecDiagnostics(t *testing.T) {
	_, diags, err := Generate("../../spec", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		t.Log(d)
		if d.Pos.File == "" || d.Pos.Line == 0 || d.Pos.Col == 0 {
			t.Errorf("diagnostic without file:line:col: %v", d)
		}
	}
}

func posAt(col int) syntax.Pos { return syntax.Pos{File: "spec/X.tla", Line: 3, Col: col} }

// TestGenEventParameters: parameters are typed from Next's \E, CASE over
// Mutant folds to its protocol arm, sequences take Append.
func TestGenEventParameters(t *testing.T) {
	dir := specTempDir(t)
	src := `---- MODULE P ----
EXTENDS Naturals, Sequences
CONSTANTS Mutant
VARIABLES
    \* @type: Set([id: Int, by: Str]); @role: attacker
    net,
    \* @type: Int; @role: meter; @persist
    last,
    \* @type: Seq(Int); @role: meter
    ran
Init == net = {} /\ last = 0 /\ ran = <<>>
Fresh(m) == CASE Mutant = "window" -> TRUE [] OTHER -> m.id > last
\* @role: meter @event: command(m)
Execute(m) ==
    /\ m.by = "headend"
    /\ Fresh(m)
    /\ last' = m.id
    /\ ran' = Append(ran, m.id)
    /\ UNCHANGED net
\* @role: meter @event: skip(k)
Skip(k) == /\ k > 0 /\ last' = last + k /\ UNCHANGED <<net, ran>>
Next == \/ \E m \in net : Execute(m)
        \/ \E k \in 1..3 : Skip(k)
====
`
	if err := os.WriteFile(filepath.Join(dir, "P.tla"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"P"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"M PNet `tla:\"m\" json:\"m\"`",
		"K int64 `tla:\"k\" json:\"k\"`",
		"Ran statemachine.Seq[int64]",
		"if !(ev.M.Id > s.Last) {",
		"if !nx.Ran.Append(ev.M.Id) {",
		`Conjunct: "m.by = \"headend\" (spec/P.tla:15:8)"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("generated code lacks %q:\n%s", want, out)
		}
	}
	// A parameter Next does not draw from a typable set.
	bad := strings.Replace(src, `\E k \in 1..3 : Skip(k)`, `\E k \in {1, "a"} : Skip(k)`, 1)
	if err := os.WriteFile(filepath.Join(dir, "P.tla"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"P"}}, nil); err == nil || !strings.Contains(err.Error(), `spec/P.tla:23:21: cannot type a parameter drawn from {1, "a"}`) {
		t.Errorf("err = %v", err)
	}
}

// TestGenHistoryAndEnumParameters: a variable of the history role is kept
// by the model only (its assignment is named in a comment, not generated),
// a guard that reads one is refused with its position, and a parameter
// drawn from a set of literals, written out or named, is typed.
func TestGenHistoryAndEnumParameters(t *testing.T) {
	dir := specTempDir(t)
	src := `---- MODULE H ----
EXTENDS Naturals, Sequences
VARIABLES
    \* @type: Int; @role: meter; @persist
    last,
    \* @type: Seq(Str); @role: history
    ran
Kinds == {"tariff", "disconnect"}
Init == last = 0 /\ ran = <<>>
\* @role: meter @event: run(k, n)
Run(k, n) ==
    /\ k # "disconnect" \/ n > 1
    /\ last' = last + n
    /\ ran' = Append(ran, k)
Next == \E k \in Kinds, n \in {1, 2} : Run(k, n)
====
`
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "H.tla"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(src)
	out, _, err := GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"H"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"K string `tla:\"k\" json:\"k\"`",
		"N int64 `tla:\"n\" json:\"n\"`",
		"// History variables not kept: ran' = Append(ran, k) (spec/H.tla:14:8).",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("generated code lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "Ran ") {
		t.Errorf("the history variable ran is in the generated state:\n%s", out)
	}
	write(strings.Replace(src, `/\ k # "disconnect" \/ n > 1`, `/\ Len(ran) < 3`, 1))
	if _, _, err := GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"H"}}, nil); err == nil || !strings.Contains(err.Error(), "spec/H.tla:12:") || !strings.Contains(err.Error(), "reads ran of role history") {
		t.Errorf("a guard reading a history variable: err = %v", err)
	}
}

// specTempDir is a temporary directory named spec, so that positions read
// spec/X.tla as they do for the repository's spec.
func specTempDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "spec")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGenTargetsCoverEveryRoleAction: every module with actions of a role
// that runs code is generated for it or listed as pending, or marked
// @compose, so a new module is never silently left out of a role's machine.
func TestGenTargetsCoverEveryRoleAction(t *testing.T) {
	paths, err := filepath.Glob("../../spec/*.tla")
	if err != nil || len(paths) == 0 {
		t.Fatal("no spec modules", err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mod := strings.TrimSuffix(filepath.Base(p), ".tla")
		ann, _ := scanAnnotations(p, src)
		if ann.Compose != nil {
			continue // model-checked only (System)
		}
		for name, a := range ann.Actions {
			if !principal([]string{a.Role}) {
				continue
			}
			covered := false
			for _, tg := range Targets {
				if tg.Role != a.Role {
					continue
				}
				for _, m := range append(append([]string(nil), tg.Modules...), tg.Pending...) {
					covered = covered || m == mod
				}
			}
			if !covered {
				t.Errorf("%s: action %s of role %s is in no target's Modules or Pending", a.Pos, name, a.Role)
			}
		}
	}
}

func TestLoadRolesOfCommands(t *testing.T) {
	r, diags, err := LoadRoles("../../spec", "Commands")
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 0 {
		t.Fatalf("diagnostics on spec/Commands.tla: %v", diags)
	}
	want := map[string]string{"Issue": "headend", "Relay": "gateway", "Restart": "gateway", "Inject": "attacker", "InsiderApprove": "attacker", "Execute": "meter", "ExecuteDisconnect": "meter", "ExecuteTrustList": "meter"}
	for a, role := range want {
		if r.Actions[a] != role {
			t.Errorf("action %s: role %q, want %q", a, r.Actions[a], role)
		}
	}
	if len(r.Actions) != len(want) {
		t.Errorf("actions %v, want %v", r.Actions, want)
	}
	if r.Events["Execute"] != "command" || len(r.Vars["net"]) != 1 || r.Vars["net"][0] != "attacker" {
		t.Errorf("events %v, vars %v", r.Events, r.Vars)
	}
	if _, _, err := LoadRoles("../../spec", "NoSuchModule"); err == nil {
		t.Error("a missing module loaded")
	}
}

// TestGenCryptoHooks: an operator marked @crypto is not inlined: actions
// call it through the module's Crypto interface (a field of Params), and
// <M>SymbolicCrypto, in the role's generated _test.go file, implements it
// by its definition; a @crypto line not followed by a definition is
// reported.
func TestGenCryptoHooks(t *testing.T) {
	dir := specTempDir(t)
	src := `---- MODULE K ----
EXTENDS Naturals
VARIABLES
    \* @type: Set([id: Int, by: Str]); @role: attacker
    net,
    \* @type: Int; @role: meter; @persist
    last
Init == net = {} /\ last = 0
\* @crypto
\* The signature is role r's.
SignedBy(m, r) == m.by = r
\* @role: meter @event: command(m)
Run(m) ==
    /\ SignedBy(m, "headend")
    /\ last' = m.id
    /\ UNCHANGED net
Next == \E m \in net : Run(m)
====
`
	if err := os.WriteFile(filepath.Join(dir, "K.tla"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tg := Target{Role: "meter", Package: "p", Modules: []string{"K"}, TestPath: "p/store_gen_test.go"}
	out, diags, err := GenerateTarget(dir, tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Crypto KCrypto\n",
		"type KCrypto interface {",
		"SignedBy(m KNet, r string) bool",
		"if !p.Crypto.SignedBy(ev.M, \"headend\") {",
		`Conjunct: "SignedBy(m, \"headend\") (spec/K.tla:14:8)"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("generated code lacks %q:\n%s", want, out)
		}
	}
	// The symbolic implementation is for tests: in the _test.go file only.
	if strings.Contains(string(out), "SymbolicCrypto") {
		t.Errorf("the machine file has the test-only KSymbolicCrypto:\n%s", out)
	}
	tf, err := GenerateStoreTest(dir, tg)
	if err != nil || tf == nil {
		t.Fatalf("no test helpers: %v", err)
	}
	for _, want := range []string{
		"type KSymbolicCrypto struct{}",
		"func (KSymbolicCrypto) SignedBy(m KNet, r string) bool {",
		"return (ev.M.By == ev.R)",
	} {
		if !strings.Contains(string(tf.Src), want) {
			t.Errorf("%s lacks %q:\n%s", tf.Path, want, tf.Src)
		}
	}
	for _, d := range diags {
		t.Errorf("unexpected diagnostic %v", d)
	}
	bad := strings.Replace(src, "SignedBy(m, r) == m.by = r", "VARIABLE stray", 1)
	if err := os.WriteFile(filepath.Join(dir, "K.tla"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags, _ = GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"K"}}, nil)
	found := false
	for _, d := range diags {
		found = found || strings.Contains(d.String(), "spec/K.tla:9:1: @crypto not followed by a definition")
	}
	if !found {
		t.Errorf("a stray @crypto is not reported: %v", diags)
	}
}

// TestGenProtocolLimitKept: a guard on a constant is a model bound only
// when its line is marked `\* @bound`; a protocol limit (Channel's
// next < MaxCtr) is kept, its constant a field of Params.
func TestGenProtocolLimitKept(t *testing.T) {
	src, _, err := generateT(module(t, "  /\\ x < MaxN\n  \\* @bound\n  /\\ x < Block\n  /\\ x' = x + 1\n  /\\ UNCHANGED <<s, g>>"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"if !(s.X < p.MaxN) {",
		"MaxN int64 `tla:\"MaxN\"`",
		"Model bounds dropped: x < Block (spec/T.tla:16:6).",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
}

// TestGenComposedModuleIsQuiet: System, marked @compose, is checked only:
// gen says nothing about it; without the mark it would be a module no
// target covers, and gen says so; a malformed type in it is still reported.
func TestGenComposedModuleIsQuiet(t *testing.T) {
	_, diags, err := Generate("../../spec", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		if strings.Contains(d.Pos.File, "System") {
			t.Errorf("diagnostic on the composed model: %v", d)
		}
	}
	for _, c := range []struct{ old, new, want string }{
		{"\\* @compose:", "\\* composes:", "no target of statemachine/gen.Targets generates it"},
		{"@type: Str -> Set(Str); @role: gateway", "@type: Str -> Set(NOALIAS); @role: gateway", "undefined alias NOALIAS"},
	} {
		spec := filepath.Join(t.TempDir(), "spec")
		if err := os.CopyFS(spec, os.DirFS("../../spec")); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(spec, "System.tla")
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(src), c.old, c.new, 1)
		if edited == string(src) {
			t.Fatalf("%q not in System.tla", c.old)
		}
		if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
		ds, err := uncovered(spec, Targets)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || !strings.Contains(ds[0].Msg, c.want) {
			t.Errorf("after %q -> %q: %v, want one diagnostic %q", c.old, c.new, ds, c.want)
		}
	}
}

// TestGenRecordsLetExcept: a record alias with a set-valued field, set
// literals, EXCEPT with @, LET, and a parameter drawn from a definition
// typed `\* @type: Set(T);`; the ordering functions nothing calls are not
// written.
func TestGenRecordsLetExcept(t *testing.T) {
	dir := specTempDir(t)
	src := `---- MODULE R ----
EXTENDS Naturals
CONSTANTS Mutant
\* @typeAlias: MAN = [v: Int, sigs: Set(Str)];
\* @type: Set(MAN);
Offers == {m \in [v : 1..2, sigs : SUBSET {"a", "b"}] : m.v > 0}
VARIABLES
    \* @type: MAN; @role: meter; @persist
    cur
Init == cur = [v |-> 0, sigs |-> {"a"}]
\* @role: meter @event: offer(m)
Offer(m) ==
    LET bumped == [m EXCEPT !.v = @ + 1, !.sigs = {"b", "a"}]
    IN  /\ m.sigs = {"a", "b"}
        /\ cur' = bumped
Next == \E m \in Offers : Offer(m)
====
`
	if err := os.WriteFile(filepath.Join(dir, "R.tla"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, diags, err := GenerateTarget(dir, Target{Role: "meter", Package: "p", Modules: []string{"R"}}, nil)
	if err != nil {
		t.Fatalf("%v (%v)", err, diags)
	}
	for _, want := range []string{
		"type RMan struct {",
		"Sigs statemachine.Set[string] `tla:\"sigs\" json:\"sigs\"`",
		"s.Cur = RMan{V: 0, Sigs: newRSetString(\"a\")}",
		"(ev.M.Sigs == newRSetString(\"a\", \"b\"))",
		"r := ev.M\n\t\tr.V = statemachine.Add(&ovf, r.V, 1)\n\t\tr.Sigs = newRSetString(\"b\", \"a\")",
		"M RMan `tla:\"m\" json:\"m\"`",
		"func newRSetString(xs ...string) statemachine.Set[string] {",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("generated code lacks %q:\n%s", want, out)
		}
	}
	// No set of MAN is ordered: neither ordering function is written.
	for _, unused := range []string{"func compareRMan(", "func compareRSetString("} {
		if strings.Contains(string(out), unused) {
			t.Errorf("generated code has the unused %q:\n%s", unused, out)
		}
	}
}

// TestGenSetComprehensions: {x \in S : P} and {e : x \in S} assigned to
// a set variable become a loop over S into a fresh set.
func TestGenSetComprehensions(t *testing.T) {
	for _, c := range []struct{ action, want string }{
		{"  /\\ s' = {i \\in s : i > x}\n  /\\ UNCHANGED <<x, g>>", "for _, x1 := range s.S.Elems() {\n\t\t\tif x1 > s.X {\n\t\t\t\tkept.Insert(x1, statemachine.CompareInt)"},
		{"  /\\ s' = {i + x : i \\in s}\n  /\\ UNCHANGED <<x, g>>", "if !image.Insert(statemachine.Add(&ovf, x1, s.X), statemachine.CompareInt) {"},
	} {
		src, _, err := generateT(module(t, c.action))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), c.want) {
			t.Errorf("generated code lacks %q:\n%s", c.want, src)
		}
	}
}

// machineTable is the table of generated machines in statemachine/README.md:
// per role and module, the lines of its part of the role's file (from its
// Params to the next module's) and the names the role calls.
func machineTable(t *testing.T) string {
	files, _, err := Generate("../../spec", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("| role | module | generated lines | machine (state, event, Step) | @store (kept by the role, through `<M>Store`) |\n|---|---|---|---|---|\n")
	total := 0
	src := map[string][]byte{}
	for _, f := range files {
		src[f.Path] = f.Src
	}
	for _, tg := range Targets {
		lines := strings.Split(string(src[tg.Path]), "\n")
		start := map[string]int{}
		for n, l := range lines {
			for _, m := range tg.Modules {
				if strings.HasPrefix(l, "// "+(&Machine{Module: m, Unexported: tg.Unexported}).goPrefix()+"Params holds") {
					start[m] = n
				}
			}
		}
		for j, m := range tg.Modules {
			end := len(lines)
			if j+1 < len(tg.Modules) {
				end = start[tg.Modules[j+1]]
			}
			n := end - start[m]
			total += n
			mach, _, err := LoadMachine("../../spec", m, tg.Role)
			if err != nil {
				t.Fatal(err)
			}
			var stores []string
			for _, v := range mach.Vars {
				if v.Store {
					stores = append(stores, "`"+v.Name+"`")
				}
			}
			mach.Unexported = tg.Unexported
			p := mach.goPrefix()
			fmt.Fprintf(&b, "| %s | %s | %d | `%sState`, `%sEvent`, `(*%sParams).Step` | %s |\n", tg.Role, m, n, p, p, p, strings.Join(stores, ", "))
		}
	}
	fmt.Fprintf(&b, "| all | | %d | | |\n", total)
	return b.String()
}

var writeTable = flag.Bool("write", false, "rewrite the table of statemachine/README.md")

// TestGenTableInReadme keeps the table of statemachine/README.md equal to
// what gen writes; -write updates it.
func TestGenTableInReadme(t *testing.T) {
	const begin, end = "<!-- machines begin -->\n", "<!-- machines end -->"
	path := "../README.md"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(readme, []byte(begin)), bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the table markers", path)
	}
	table := machineTable(t)
	if string(readme[i+len(begin):j]) == table {
		return
	}
	if !*writeTable {
		t.Fatalf("%s is stale (go test ./statemachine/gen -run TableInReadme -write); want:\n%s", path, table)
	}
	out := append(append(append([]byte{}, readme[:i+len(begin)]...), table...), readme[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGenStore: a @store variable is not a field of the state; Step reads
// it through <M>Store and asks for its changes in <M>Output; any other use
// is an error, and the reference store is generated for tests only.
func TestGenStore(t *testing.T) {
	mod := func(action, init string) string {
		dir := specTempDir(t)
		src := `---- MODULE S ----
EXTENDS Naturals
VARIABLES
    \* @type: Set(Int); @role: headend; @persist; @store
    db,
    \* @type: Int; @role: headend
    n
Init == db = ` + init + ` /\ n = 0
\* @role: headend @event: put(x)
Put(x) ==
` + action + `
Next == \E x \in 1..3 : Put(x)
====
`
		if err := os.WriteFile(filepath.Join(dir, "S.tla"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tg := Target{Role: "headend", Package: "p", Modules: []string{"S"}, TestPath: "p/store_gen_test.go"}
	dir := mod("  /\\ x \\notin db\n  /\\ db' = (db \\ {x + 1}) \\cup {x}\n  /\\ n' = n + 1", "{}")
	src, _, err := GenerateTarget(dir, tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Store SStore\n",
		"DbHas(x int64) bool",
		"if p.Store.DbHas(ev.X) {",
		"out.DbRemove = append(out.DbRemove, statemachine.Add(&ovf, ev.X, 1))",
		"out.DbAdd = append(out.DbAdd, ev.X)",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(string(src), "Db statemachine.Set") {
		t.Error("the @store is a field of the state")
	}
	f, err := GenerateStoreTest(dir, tg)
	if err != nil || f == nil || !strings.Contains(string(f.Src), "Db map[int64]bool `tla:\"db\"`") {
		t.Fatalf("reference store: %v %v", f, err)
	}
	for _, c := range []struct{ action, init, want string }{
		{"  /\\ db = {}\n  /\\ UNCHANGED db\n  /\\ n' = n", "{}", "db is a @store"},
		{"  /\\ db' = {y \\in db : y > x}\n  /\\ n' = n", "{}", "the @store db is changed only as"},
		{"  /\\ db' = (db \\cup {x}) \\ {1}\n  /\\ n' = n", "{}", "remove before adding"},
		{"  /\\ db' = db\n  /\\ n' = n", "{1}", "the @store db must start empty"},
	} {
		if _, _, err := GenerateTarget(mod(c.action, c.init), tg, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("action\n%s\nerr = %v, want %q", c.action, err, c.want)
		}
	}
}
