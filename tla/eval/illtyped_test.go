package eval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/verimeter/verimeter/tla/check"
	"github.com/verimeter/verimeter/tla/value"
)

// TestIllTypedComparisonsAsTLC: equality and membership of records,
// tuples and functions whose values cannot be compared (a field holding an
// integer where the others hold strings) stop with an error exactly where
// TLC stops, and answer as TLC answers where an earlier pair decides. Each
// outcome is TLC's on this machine for Init == v = 7 /\ <expr> (error, or
// 1 or 0 initial states). A hash that misses must not answer FALSE where
// TLC's comparison raises.
func TestIllTypedComparisonsAsTLC(t *testing.T) {
	const raise, yes, no = -1, 1, 0
	cases := []struct {
		expr string
		tlc  int
	}{
		// Equality: sizes, then the domains, then the values, in order.
		{`[a |-> 1] = [a |-> "x"]`, raise},
		{`[a |-> 1] = [b |-> "x"]`, no},
		{`[a |-> 1, b |-> 2] = [a |-> "x", c |-> 2]`, no},
		{`[a |-> 1, b |-> 2] # [a |-> "x", c |-> 2]`, yes},
		{`[a |-> 1, b |-> 2] = [a |-> 2, b |-> "x"]`, no},
		{`(1 :> 1 @@ 2 :> 2) = (1 :> "x" @@ 3 :> 2)`, no},
		{`<<1, 2>> = <<"x", 3>>`, raise},
		{`<<1, 2>> = <<2, "x">>`, no},
		{`<<1>> = <<"a", 2>>`, no},
		{`<<1>> = [a |-> 1]`, raise},
		{`<<<<1>>>> = <<<<"a">>>>`, raise},
		{`[x \in {1} |-> 1] = [x \in {"a"} |-> 1]`, raise},
		{`[x \in {1, 2} |-> 1] = [x \in {1, 3} |-> "a"]`, no},
		{`<<M, 1>> = <<N, "a">>`, no},
		{`<<M, 1>> = <<M, "a">>`, raise},
		// Membership: TLC's binary search in the normalized set.
		{`[a |-> 1, b |-> "x"] \in {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3]}`, raise},
		{`[a |-> 3, b |-> "x"] \in {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3]}`, no},
		{`[a |-> 1, b |-> "x"] \in {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3], [c |-> 1]}`, raise},
		{`LET r == [a |-> 1, b |-> "x"] IN r \in {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3], [c |-> 1]}`, raise},
		{`LET r == [a |-> 0, b |-> "x"] IN r \in {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3], [c |-> 1]}`, no},
		{`LET r == [d |-> "x"] IN r \in {[a |-> 1, b |-> 2], [c |-> 1]}`, no},
		{`[c |-> "s"] \in {[a |-> 1, b |-> 2], [c |-> 1]}`, raise},
		{`[d |-> "s"] \in {[a |-> 1, b |-> 2], [c |-> 1]}`, no},
		{`[a |-> 1] \in {[a |-> "a"], [a |-> "b"], [a |-> "c"], [a |-> "d"], [a |-> "e"], [a |-> "f"], [a |-> "g"], [a |-> "h"], [a |-> "i"], [a |-> "j"]}`, raise},
		{`[a |-> "z"] \in {[a |-> "a"], [a |-> "b"], [a |-> "c"], [a |-> "d"], [a |-> "e"], [a |-> "f"], [a |-> "g"], [a |-> "h"], [a |-> "i"], [a |-> "j"]}`, no},
		{`[a |-> 1] \notin {[a |-> "a"]}`, raise},
		{`[a |-> 1] \in {[a |-> "a", b |-> 1]}`, no},
		{`[a |-> 1, b |-> 2] \in {[a |-> 1, c |-> "x"]}`, no},
		{`<<1>> \in {<<"a">>, <<"b">>}`, raise},
		{`<<1, "a">> \in {<<1, 2>>, <<2, 3>>}`, raise},
		{`<<3, "a">> \in {<<1, 2>>, <<2, 3>>}`, no},
		{`<<1>> \in {[a |-> 1]}`, raise},
		{`[a |-> 1] \in {<<1>>}`, raise},
		{`(1 :> 2) \in {<<"x">>}`, raise},
		{`[r \in {"a"} |-> 1] \in {[b |-> 1]}`, no},
		{`[a |-> {1}] \in {[a |-> {2}], [a |-> {3}]}`, no},
		{`[a |-> {"x"}] \in {[a |-> {2}]}`, raise},
		{`[a |-> TRUE] \in {[a |-> 1]}`, raise},
		{`[a |-> M] \in {[a |-> "x"], [a |-> "y"], [a |-> "z"]}`, no},
		{`[a |-> 1] \in {[a |-> M], [a |-> 2]}`, no},
		{`[a |-> 1, b |-> M] \in {[a |-> 1, b |-> 2]}`, no},
		// One set asked about a record of its kinds, then of others.
		{`LET S == {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3]} IN [a |-> 5, b |-> 1] \notin S /\ [a |-> 1, b |-> "x"] \in S`, raise},
		{`LET S == {[a |-> 1, b |-> 2], [a |-> 2, b |-> 3]} IN [a |-> 5, b |-> 1] \notin S /\ [a |-> 3, b |-> "x"] \notin S`, yes},
		// Through the set operators, quantifiers and filters.
		{`{[a |-> 1]} \subseteq {[a |-> "a"]}`, raise},
		{`{[a |-> 1]} \ {[a |-> "a"]} = {}`, raise},
		{`{[a |-> 1]} \cap {[a |-> "a"]} = {}`, raise},
		{`Cardinality({[a |-> 1]} \cup {[a |-> "a"]}) = 2`, raise},
		{`LET f == [r \in {[a |-> "a"]} |-> 0] IN [a |-> 1] \in DOMAIN f`, raise},
		{`LET S == {[a |-> "a"]} IN \E m \in S : m = [a |-> 1]`, raise},
		{`LET S == {[a |-> "a", b |-> 2]} IN {m \in S : m.a = 1} = {}`, raise},
		{`[a |-> 1] \in [a : {"a"}]`, raise},
		{`<<1>> \in Seq({"a"})`, raise},
		{`{[a |-> 1]} \in SUBSET {[a |-> "a"]}`, raise},
		{`[a |-> 1] \in UNION {{[a |-> "a"]}}`, raise},
		{`<<[a |-> 1]>> \in Seq({[a |-> "a"]})`, raise},
		{`[a |-> 1] \in {[a |-> 1], [a |-> 2]} \cup {[a |-> 3]}`, yes},
		{`[x \in {[a |-> "a"]} |-> 1][[a |-> "a"]] = 1`, yes},
		{`[x \in {[a |-> "a"]} |-> 1][[a |-> 7]] = 1`, raise},
		// Nested values, and values that are never compared.
		{`<<[a |-> 1]>> = <<[a |-> "x"]>>`, raise},
		{`[a |-> {1}] = [a |-> {"a"}]`, raise},
		{`[a |-> <<1>>] = [a |-> <<"a">>]`, raise},
		{`{1} = {"a"}`, raise},
		{`{[a |-> 1], [a |-> 2]} = {[a |-> 1], [a |-> "b"]}`, raise},
		{`Len(Append(<<[a |-> 1]>>, [a |-> "x"])) = 2`, yes},
	}
	for _, c := range cases {
		files := map[string]string{
			"Spec.tla": "---- MODULE Spec ----\nEXTENDS Integers, Sequences, FiniteSets, TLC\nCONSTANTS M, N\nVARIABLE v\n" +
				"Init == v = 7 /\\ " + c.expr + "\nNext == UNCHANGED v\n====\n",
			"Spec.cfg": "INIT Init\nNEXT Next\nCONSTANTS M = M\n N = N\n",
		}
		if c.tlc == raise {
			runFiles(t, c.expr, files, "Spec.cfg", check.Success, 0, value.ErrIncomparable)
		} else {
			runFiles(t, c.expr, files, "Spec.cfg", check.Success, int64(c.tlc), nil)
		}
	}
}

// TestIllTypedMessageStopsTheRun: an action asking whether a message with
// a field of the wrong kind was sent stops the run with an error, as TLC
// does (4 distinct states, then "Attempted to compare string "x" with
// non-string"), where a hash lookup alone would have answered FALSE and
// reported a deadlock.
func TestIllTypedMessageStopsTheRun(t *testing.T) {
	spec := `---- MODULE Spec ----
EXTENDS Integers
VARIABLES msgs, n
Init == msgs = {[type |-> "a", bal |-> 1]} /\ n = 0
Next == \/ n < 3 /\ n' = n + 1 /\ msgs' = msgs \cup {[type |-> "a", bal |-> n + 2], [type |-> "b"]}
        \/ n = 3 /\ [type |-> "a", bal |-> "x"] \in msgs /\ UNCHANGED <<msgs, n>>
        \/ n = 3 /\ [type |-> "a", bal |-> 9] \in msgs /\ UNCHANGED <<msgs, n>>
====
`
	dir := t.TempDir()
	for f, src := range map[string]string{"Spec.tla": spec, "Spec.cfg": "INIT Init\nNEXT Next\n"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := CheckModel(context.Background(), filepath.Join(dir, "Spec.tla"), filepath.Join(dir, "Spec.cfg"), check.Options{Workers: 1})
	if !errors.Is(err, value.ErrIncomparable) {
		t.Fatalf("got %v, %+v; TLC stops: Attempted to compare string \"x\" with non-string", err, res)
	}
	if res.Distinct != 4 {
		t.Fatalf("%d distinct states at the stop; TLC: 4", res.Distinct)
	}
}
