// Package check is verimeter's explicit-state model checker: it explores any
// System (the states and transitions tla/eval derives from a TLA+ spec, or a
// hand-written Go model) breadth first, level by level, with several workers,
// remembering states by 64-bit fingerprints mixed from per-variable hashes. It
// counts distinct and generated states and depth exactly as TLC does, checks
// invariants on every generated state, honours state and action constraints
// and deadlock checking, and returns the shortest trace to a violation; the
// result does not depend on the number of workers. Systems that also
// implement PropertySystem get TLC's PROPERTY checking: initial-state and
// action properties during the search, liveness under WF/SF fairness on the
// state graph afterwards (liveness.go: tableau product, strongly connected
// components, counterexample as a prefix and a cycle); Fingerprinter lets a
// System identify states by a VIEW or up to SYMMETRY.
package check
