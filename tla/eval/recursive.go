package eval

import "github.com/verimeter/verimeter/tla/syntax"

// Calls of RECURSIVE operators. Such an operator runs in an activation of
// its own (callRec: its body compiled once, its arguments evaluated by
// value) rather than being expanded in place at each call: expanded, a
// recursive body is compiled again at each level down to maxInline, and an
// operator that calls another recursive one (dag-consensus' Linearize calls
// SubDag, which calls Descendants) multiplies those expansions, so that
// compiling a model took minutes and gigabytes. TLC too evaluates a
// recursive operator's body once per call.
//
// A call still expands in place where an activation cannot stand for it: an
// operator with an operator parameter (see higher.go), a call under a prime
// (the body's variables are then the next state's), or a body that reads
// primed variables itself.

// recByValue reports whether a call of the RECURSIVE definition d, compiled
// in s, may run in an activation of d's own, before d's unit is compiled.
func (s scope) recByValue(d *syntax.Def) bool {
	if !d.Recursive || d.FnBounds != nil || s.primed {
		return false
	}
	for _, p := range d.Params {
		if p.Arity > 0 {
			return false
		}
	}
	return true
}
