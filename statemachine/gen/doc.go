// Package gen is the generator behind `verimeter gen`: it reads the annotated
// TLA+ modules of spec/ (spec/README.md states the conventions) and writes,
// for one role, a typed state struct, typed events and a pure
// Step(state, event, out) per module in etcd-io/raft's style: no I/O, no
// clock, no goroutines, no allocation. Types come from the `\* @type:`
// annotations (Apalache notation), events from `\* @role: R @event: e(p)`.
// Guards that fail return a preallocated *statemachine.GuardError naming the
// action and the conjunct; model bounds (guards on Max… constants) are
// dropped, and Mutant is folded to "none". Anything outside the translated
// subset of TLA+ is an error with its file:line:col, never silently wrong code.
package gen
