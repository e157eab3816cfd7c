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
// state graph (liveness.go: tableau product, strongly connected
// components, counterexample as a prefix and a cycle), after the search
// and, as TLC, during it on the states explored so far (a violation found
// there stops the run); Fingerprinter lets a
// System identify states by a VIEW or up to SYMMETRY.
//
// State spaces larger than memory (disk.go, checkpoint.go): with
// Options.MetaDir the trace is a file of fixed 14-byte records (fingerprint,
// parent, action) walked from disk to rebuild a counterexample, the BFS queue
// is written in flate-compressed blocks once it exceeds Options.FrontierMem,
// and Options.FPMem sizes the fingerprint table up front, so that the
// resident memory is about the table's 16 bytes a slot. Options.Checkpoint
// writes the table, the queue, the trace's length and the counters between
// levels (write, fsync, rename); Options.Recover resumes from them to the
// counts of an uninterrupted run, and refuses a checkpoint of another model
// or written by a build whose fingerprints differ (its format).
//
// A successor made of the very values of the state it comes from (an
// action that changes nothing) counts as generated, as in TLC, and is
// known stored without a fingerprint or a claim, unless the System
// fingerprints states from more than their values (ValuesFingerprinter:
// a VIEW may read the level; a SYMMETRY reads the values only).
package check
