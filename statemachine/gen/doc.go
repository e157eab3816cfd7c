// Package gen is the generator behind `verimeter gen`: it reads the annotated
// TLA+ modules of spec/ (spec/README.md states the conventions) and writes,
// for each role of Targets, a typed state struct, typed events and a pure
// Step(state, event, out) per module in etcd-io/raft's style: no I/O, no
// clock, no goroutines, no allocation (sets and sequences are fixed-capacity
// arrays, statemachine.Set and statemachine.Seq).
//
// Types come from the `\* @type:` annotations (Apalache notation: Int, Bool,
// Str, Set(T), Seq(T), records, aliases from `\* @typeAlias: NAME = T;`),
// events from `\* @role: R @event: e(p)` with each parameter typed by the
// set Next draws it from (\E x \in S : A(x), S a variable, a..b, BOOLEAN or
// a set of literals, written out or named by a definition).
// An action is a conjunction of guards, `v' = e` and UNCHANGED; its guards
// fail with a preallocated *statemachine.GuardError naming the conjunct and
// its position; guards on a line marked `\* @bound` are model bounds and
// dropped (a guard on a constant without the mark is a protocol limit, kept);
// Mutant is folded to "none" (mutant-only disjuncts and CASE arms vanish);
// user operators are inlined; integer arithmetic is checked (a wrap is a
// *statemachine.CapacityError, never silent). An action writes only its
// role's variables, and adds messages to channel variables (owned by the
// attacker, wan or env) as `net' = net \cup {msg}`, which become the
// typed Sends of its Output. Variables of the role `history` (what happened,
// for the properties) are kept by the model only: updates to them are
// dropped and named in a comment, and reading one is an error. An operator
// marked `\* @crypto` (abstract cryptography) is not inlined: the actions
// call it through the module's <M>Crypto interface, a field of <M>Params
// that the role implements with protocol/, and <M>SymbolicCrypto (in the
// role's store_gen_test.go, so that no device links it) implements it by
// its definition for tests.
//
// Records may carry sets of scalars (a manifest's signers) and be updated
// with EXCEPT (@ included); LET definitions without parameters are inlined;
// {x \in S : P} and {e : x \in S} over a set of the role become loops in
// assignments; a parameter may be drawn from a definition typed
// `\* @type: Set(T);` (a set of records such as Presentable) or a range
// definition (Slots == 1..T). Function types (Str -> Int) parse, but a
// function-typed variable is not a field of a machine's state. A
// variable marked @store is state the role keeps outside the machine: read
// through <M>Store (x \in v), changed through <M>Output (add, remove,
// clear), with a map-backed reference in the role's store_gen_test.go. A
// module marked `\* @compose` (System) is model-checked only: gen
// generates nothing from it and only checks its types.
//
// Anything outside that subset (quantifiers and CHOOSE in actions,
// comprehensions in guards, functions, IF over actions with unequal
// branches) is an error with its file:line:col, never silently wrong
// code. Convention violations in actions of roles not being generated are
// diagnostics; Target.Pending lists modules a role cannot be generated
// from yet (none today), and Generate says why. statemachine/README.md
// tabulates the generated machines per role and module.
//
// difftest/ checks the generated machines against the evaluator.
package gen
