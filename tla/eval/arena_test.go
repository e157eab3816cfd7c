package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// arenaMod sends messages (x' = S \cup {e}, a record and a plain value,
// new and already sent), updates functions by EXCEPT (two paths, @, a
// nested path, a path updated twice whose second update reads the first's
// value, made in the arena, as @), and reads what it assigned back: in a conjunct after the
// assignment, through UNCHANGED on an assigned variable, and as the
// current state of the second step of \cdot.
const arenaMod = `---- MODULE ArenaSucc ----
EXTENDS Naturals, FiniteSets, Sequences
VARIABLES msgs, f, g, n, s, h
Init == /\ msgs = {[t |-> "a", v |-> 0]}
        /\ h = [i \in 1..2 |-> <<>>]
        /\ f = [i \in 1..2 |-> [j \in 1..2 |-> 0]]
        /\ g = [k \in {"p", "q"} |-> 0]
        /\ n = 0
        /\ s = {0}
Send(m) == msgs' = msgs \cup {m}
A == /\ n < 3
     /\ \E v \in 0..2 : Send([t |-> "b", v |-> v])
     /\ f' = [f EXCEPT ![1][2] = n, ![2][1] = n + 1]
     /\ g' = [g EXCEPT !["p"] = (@ + 1) % 3]
     /\ n' = Cardinality(msgs') % 4
     /\ s' = s \cup {n}
     /\ UNCHANGED h
B == /\ Send([t |-> "a", v |-> 0])
     /\ UNCHANGED msgs
     /\ s' = s \cup {Cardinality(s)}
     /\ Cardinality(s') < 4
     /\ UNCHANGED <<f, g, n, h>>
C == /\ f' = [f EXCEPT ![1] = [j \in 1..2 |-> n]]
     /\ f'[1][1] = n
     /\ g' = [g EXCEPT !["q"] = f'[1][2]]
     /\ UNCHANGED <<msgs, n, s, h>>
D == /\ Cardinality(msgs) < 5
     /\ (/\ Send([t |-> "c", v |-> 0])
         /\ UNCHANGED <<f, g, n, s, h>>)
        \cdot
        (/\ Send([t |-> "d", v |-> Cardinality(msgs)])
         /\ UNCHANGED <<f, g, n, s, h>>)
E == Send([t |-> "e", v |-> 9]) /\ UNCHANGED <<msgs, f, g, n, s, h>>
F == /\ n = 0 /\ s = {0}
     /\ Send([t |-> "f", v |-> 1])
     /\ f' = [f EXCEPT ![2][2] = 1]
     /\ \E k \in 1..70 : s' = {k}
     /\ UNCHANGED <<g, n, h>>
Rest0 == /\ msgs = {[t |-> "a", v |-> 0]} /\ n = 0 /\ s = {0}
         /\ f = [i \in 1..2 |-> [j \in 1..2 |-> 0]] /\ g = [k \in {"p", "q"} |-> 0]
G == /\ Rest0 /\ Len(h[1]) < 2
     /\ h' = [h EXCEPT ![2] = IF @ = <<>> THEN @ ELSE Tail(@), ![1] = Append(@, n % 2)]
     /\ \/ h'[2] = <<>>
        \/ h' = [h EXCEPT ![1] = Tail(Append(@, 0))]
        \/ Len(h'[1]) = 1
     /\ UNCHANGED <<msgs, f, g, n, s>>
H == /\ Rest0 /\ h[1] # <<>>
     /\ h' = [h EXCEPT ![2] = Append(@, Head(h[1])), ![1] = Tail(h[1])]
     /\ Len(h'[2]) < 3
     /\ UNCHANGED <<msgs, f, g, n, s>>
I == /\ Rest0 /\ h[2] = <<>>
     /\ h' = [h EXCEPT ![2] = Append(@, 7), ![2] = <<@, @>>]
     /\ UNCHANGED <<msgs, f, g, n, s>>
Bc(k, m) == [i \in 1..2 |-> IF i = k THEN h[k] ELSE Append(h[i], m)]
J == /\ Rest0 /\ Len(h[1]) + Len(h[2]) < 3
     /\ \E k \in 1..2 : h' = Bc(k, k) /\ g' = [g EXCEPT !["q"] = Len(h'[3 - k])]
     /\ UNCHANGED <<msgs, f, n, s>>
K == /\ Rest0 /\ g["p"] < 2
     /\ g' = [k \in {"p", "q"} |-> IF k = "p" THEN g[k] + 1 ELSE 0]
     /\ UNCHANGED <<msgs, f, n, s, h>>
L == /\ Rest0 /\ h[1] # <<>> /\ Len(h[2]) < 3
     /\ \/ h' = [h EXCEPT ![1] = Tail(@), ![2] = Append(@, 5)]
        \/ h' = [h EXCEPT ![1] = Tail(@), ![1] = Append(@, 6)]
        \/ h' = [h EXCEPT ![1] = Tail(@), ![1] = <<Len(@)>> \o @]
     /\ UNCHANGED <<msgs, f, g, n, s>>
Next == \/ h = [i \in 1..2 |-> <<>>] /\ (A \/ B \/ C \/ D \/ E \/ F)
        \/ G \/ H \/ I \/ J \/ K \/ L
====
`

// plainSystem is a Machine seen as a BufferedSystem only, so that the
// checker builds every successor's values as NextInto does.
type plainSystem struct{ m *Machine }

func (p plainSystem) Variables() []string                        { return p.m.Variables() }
func (p plainSystem) Init(emit func(check.State) error) error    { return p.m.Init(emit) }
func (p plainSystem) Invariants() []check.Invariant              { return p.m.Invariants() }
func (p plainSystem) Constraints() []check.StatePredicate        { return p.m.Constraints() }
func (p plainSystem) ActionConstraints() []check.ActionPredicate { return p.m.ActionConstraints() }
func (p plainSystem) ActionNames() []string                      { return p.m.ActionNames() }
func (p plainSystem) Next(s check.State, emit func(check.State, string) error) error {
	return p.m.Next(s, emit)
}
func (p plainSystem) NextInto(s check.State, emit func(check.State, int) error) error {
	return p.m.NextInto(s, emit)
}

// checkPlainAndArena checks m with w workers twice: with the successors
// built as NextInto builds them, and with the arena, its released memory
// cleared (Options.ArenaPoison), so that a value used too late fails.
func checkPlainAndArena(t *testing.T, m *Machine, w int) (plain, arena check.Result) {
	t.Helper()
	plain, err := check.Run(context.Background(), plainSystem{m}, check.Options{Workers: w, NoDeadlock: true})
	if err != nil {
		t.Fatal(err)
	}
	arena, err = check.Run(context.Background(), m, check.Options{Workers: w, NoDeadlock: true, ArenaPoison: true})
	if err != nil {
		t.Fatal(err)
	}
	return plain, arena
}

// TestArenaSuccessorsAsBuilt: the successors NextIntoPending hands out
// hold values made in the arena (a Pending union, arena functions), which
// materialize to exactly NextInto's successors; and the checker, which
// materializes only the new ones, counts what it counts with NextInto,
// with the arena's memory never reused and cleared when released, so that
// a value used after its release fails.
func TestArenaSuccessorsAsBuilt(t *testing.T) {
	m := machineFromSource(t, t.TempDir(), "ArenaSucc", arenaMod, "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n")
	var inits []check.State
	if err := m.Init(func(s check.State) error { inits = append(inits, s); return nil }); err != nil {
		t.Fatal(err)
	}
	var want []check.State
	if err := m.NextInto(inits[0], func(s check.State, _ int) error {
		want = append(want, append(check.State(nil), s...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []check.State
	pendings, arenaFuncs, arenaLeaves := 0, 0, 0
	a := &value.Arena{Poison: true}
	if err := m.NextIntoPending(inits[0], func(s check.State, _ int) error {
		for _, v := range s {
			switch x := v.(type) {
			case *value.Pending:
				pendings++
			case *value.Func:
				if value.Materialize(x) != value.Value(x) {
					arenaFuncs++
					for i := 0; i < x.Len(); i++ {
						if y, ok := x.RangeAt(i).(*value.Func); ok && y.IsSeq() && y.Len() > 0 && value.Materialize(y) != value.Value(y) {
							arenaLeaves++ // an Append or Tail made in the arena
						}
					}
				}
			}
		}
		// the fingerprint of the successor as handed out is its built one's
		cp := append(check.State(nil), s...)
		fp := check.Fingerprint(cp)
		for i := range cp {
			cp[i] = value.Materialize(cp[i])
		}
		if check.Fingerprint(cp) != fp {
			t.Errorf("successor %d: fingerprint %x as handed out, %x built", len(got), fp, check.Fingerprint(cp))
		}
		got = append(got, cp)
		return nil
	}, a); err != nil {
		t.Fatal(err)
	}
	// What was copied out of the arena holds nothing of it: cleared, the
	// arena's slabs change none of the successors.
	a.Release(a.Epoch() + 1)
	if pendings == 0 || arenaFuncs == 0 || arenaLeaves == 0 {
		t.Fatalf("%d Pending values, %d arena functions, %d arena sequences in them among the successors: the arena is not used", pendings, arenaFuncs, arenaLeaves)
	}
	if len(got) != len(want) {
		t.Fatalf("%d successors with the arena, %d without", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if eq, err := value.Equal(got[i][j], want[i][j]); err != nil || !eq || got[i][j].String() != want[i][j].String() || got[i][j].Hash() != want[i][j].Hash() {
				t.Errorf("successor %d, %s: %s with the arena, %s without (%v)", i, m.Variables()[j], got[i][j], want[i][j], err)
			}
		}
	}
	for _, w := range []int{1, 2} {
		plain, arena := checkPlainAndArena(t, m, w)
		t.Logf("%d workers: %d distinct, %d generated", w, arena.Distinct, arena.Generated)
		if plain.Distinct < 20 || arena.Distinct != plain.Distinct || arena.Generated != plain.Generated || arena.Depth != plain.Depth {
			t.Errorf("%d workers: with the arena %d distinct, %d generated, depth %d; without %d, %d, %d",
				w, arena.Distinct, arena.Generated, arena.Depth, plain.Distinct, plain.Generated, plain.Depth)
		}
	}
}

// TestExceptAtSharesCopiesAsTLC: the updates of an EXCEPT share the
// copies of the functions on their paths (copied once, changed in place)
// unless an update reads as @ a function an earlier, longer path copied;
// each expression is TRUE in TLC (Init == v = 7 /\ <expr>: 1 state). The
// fifth would be FALSE if its copies were shared: <<@, @>> would hold one
// copy twice, and ![1][1][1] = 7 would change both.
func TestExceptAtSharesCopiesAsTLC(t *testing.T) {
	for _, expr := range []string{
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN [f EXCEPT ![1][2] = 5, ![2][1] = @ + 1] = <<<<1, 5>>, <<4, 4>>>>`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN [f EXCEPT ![1][2] = 5, ![1][2] = @ + 1] = <<<<1, 6>>, <<3, 4>>>>`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN [f EXCEPT ![1] = <<9, 9>>, ![1][2] = @ + 1] = <<<<9, 10>>, <<3, 4>>>>`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN [f EXCEPT ![1][2] = 5, ![1] = <<@, @>>] = <<<<<<1, 5>>, <<1, 5>>>>, <<3, 4>>>>`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN [f EXCEPT ![1][2] = 5, ![1] = <<@, @>>, ![1][1][1] = 7] = <<<<<<7, 5>>, <<1, 5>>>>, <<3, 4>>>>`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN [f EXCEPT ![2] = Append(@, 0), ![1] = Tail(@)] = <<<<2>>, <<3, 4, 0>>>>`,
		`LET f == [p \in {"a", "b"} |-> [q \in {"a", "b"} |-> <<>>]] IN [f EXCEPT !["a"]["b"] = Tail(<<1>> \o @), !["b"]["a"] = Append(@, 1)]["b"]["a"] = <<1>>`,
		`LET f == [p \in {"a", "b"} |-> [q \in {"a", "b"} |-> <<>>]] IN [f EXCEPT !["a"]["a"] = Append(@, 2), !["a"]["a"] = Append(@, 1)]["a"]["a"] = <<2, 1>>`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN LET g == [f EXCEPT ![1][2] = 5, ![2] = <<@[1], f[1][2]>>] IN g = <<<<1, 5>>, <<3, 2>>>> /\ g[1] \in {<<1, 5>>}`,
		`LET f == <<<<1, 2>>, <<3, 4>>>> IN {[f EXCEPT ![1][1] = 0, ![1] = @]} = {<<<<0, 2>>, <<3, 4>>>>}`,
	} {
		files := map[string]string{
			"Spec.tla": "---- MODULE Spec ----\nEXTENDS Integers, Sequences\nVARIABLE v\n" +
				"Init == v = 7 /\\ " + expr + "\nNext == UNCHANGED v\n====\n",
			"Spec.cfg": "INIT Init\nNEXT Next\n",
		}
		runFiles(t, expr, files, "Spec.cfg", check.Success, 1, nil)
	}
}

// arenaInvariants are invariants of arenaMod that read what the actions
// made in the arena: the sets a Pending stands for, functions copied by
// EXCEPT, sequences appended to; NoD fails on a state whose messages are a
// Pending (D sends "d"), FSmall on one whose f is an EXCEPT's copy in
// the arena (A).
const arenaInvariants = `
TypeOK == /\ msgs \subseteq [t : {"a", "b", "c", "d", "e", "f"}, v : 0..9]
          /\ f \in [1..2 -> [1..2 -> 0..4]]
          /\ g \in [{"p", "q"} -> 0..4]
          /\ DOMAIN h = 1..2
          /\ \A i \in 1..2 : Len(h[i]) <= 3
NoD == \A m \in msgs : m.t # "d"
FSmall == f[2][1] < 2
====
`

// TestArenaSuccessorsJudgedInPlace: the checker judges and encodes a new
// successor where the actions made it, in the worker's arena, and copies
// it out only to keep it (a violation's trace): with the arena's memory
// cleared when released, the verdicts, counts and traces are those of the
// successors built outside it.
func TestArenaSuccessorsJudgedInPlace(t *testing.T) {
	src := strings.TrimSuffix(strings.TrimSpace(arenaMod), "====") + arenaInvariants
	for _, inv := range []string{"TypeOK", "NoD", "FSmall"} {
		m := machineFromSource(t, t.TempDir(), "ArenaSucc", src, "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\nINVARIANT "+inv+"\n")
		for _, w := range []int{1, 2} {
			plain, arena := checkPlainAndArena(t, m, w)
			if arena.Verdict != plain.Verdict || arena.Invariant != plain.Invariant || arena.Distinct != plain.Distinct || arena.Generated != plain.Generated {
				t.Fatalf("%s, %d workers: with the arena %s %q, %d distinct, %d generated; without %s %q, %d, %d", inv, w,
					arena.Verdict, arena.Invariant, arena.Distinct, arena.Generated, plain.Verdict, plain.Invariant, plain.Distinct, plain.Generated)
			}
			if want := map[string]check.Verdict{"TypeOK": check.Success, "NoD": check.InvariantViolated, "FSmall": check.InvariantViolated}[inv]; plain.Verdict != want {
				t.Fatalf("%s: %s, want %s", inv, plain.Verdict, want)
			}
			if len(arena.Trace) != len(plain.Trace) {
				t.Fatalf("%s, %d workers: trace of %d states with the arena, %d without", inv, w, len(arena.Trace), len(plain.Trace))
			}
			for i := range plain.Trace {
				if len(arena.Trace[i].State) != len(m.Variables()) || len(plain.Trace[i].State) != len(m.Variables()) {
					t.Fatalf("%s, %d workers: trace state %d of %d values with the arena, %d without", inv, w, i, len(arena.Trace[i].State), len(plain.Trace[i].State))
				}
				for j, v := range plain.Trace[i].State {
					if got := arena.Trace[i].State[j]; got == nil || got.String() != v.String() {
						t.Fatalf("%s, %d workers: trace state %d, %s = %v with the arena, %s without", inv, w, i, m.Variables()[j], got, v)
					}
				}
			}
			if inv == "NoD" && !strings.Contains(arena.Trace[len(arena.Trace)-1].State[0].String(), `t |-> "d"`) {
				t.Fatalf("%d workers: the violating state's messages are %s", w, arena.Trace[len(arena.Trace)-1].State[0])
			}
		}
	}
}
