// Package tla is the root of verimeter's TLA+ engine, the checker CI runs on
// spec/ and on others' specifications: tla/syntax lexes and parses modules
// (positions on every node, file:line:col errors), tla/cfg parses TLC model
// configurations, tla/value holds TLA+ values with TLC's semantics (ordering,
// fingerprints, 32-bit integers), tla/eval loads a specification's modules,
// resolves its names and turns it into a check.System, and tla/check explores
// that system breadth-first with parallel workers as TLC does, counting
// states the way TLC counts them. Meter and gateway binaries never import it.
package tla
