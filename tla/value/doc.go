// Package value holds the values of TLA+ as TLC computes with them: immutable
// booleans, 32-bit integers, interned strings and model values, finite sets as
// sorted deduplicated slices, functions (also records and tuples) as parallel
// domain/range arrays, and lazy sets (Nat, Int, STRING, a..b, SUBSET S, [S -> T],
// record sets, S \X T, Seq(S)) whose membership is decided without enumerating
// them. Equality, the canonical 64-bit hash and TLC's total order (model values
// below everything, strings by first sighting, sets by size then elements) are
// defined here so that the evaluator (tla/eval) and the model checker
// (tla/check) agree with TLC on CHOOSE, set printing and state fingerprints.
package value
