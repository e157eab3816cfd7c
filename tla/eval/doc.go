// Package eval turns parsed TLA+ modules into something the model checker
// can run. This first layer loads a specification's modules (the file given,
// the modules it EXTENDS or INSTANCEs from its directory or nested in it,
// and the standard modules Naturals, Integers, Sequences, FiniteSets, Bags
// and TLC, which are built in) and resolves every name the way SANY does:
// each identifier must denote a constant, variable, definition, parameter
// or bound identifier in scope, and each INSTANCE substitution must name a
// constant or variable of the instanced module (TLA+ book, section 17.5).
// Unknown names are reported as file:line:col errors before any state is
// explored. The Machine then evaluates the specification (instances with
// their substitutions included) for the checker, and compiles the
// configuration's PROPERTY formulas, the SPECIFICATION's fairness, SYMMETRY
// and VIEW (properties.go, instance.go, symmetry.go); constructs it cannot
// evaluate are reported with their position, never skipped.
//
// Actions are compiled to closures over an activation record, operators
// inlined where called; disjuncts that begin with the same plain condition
// test it once (guards.go), and {e} and records of atoms are made once per
// worker and site (value.WorkerMemo.Cons), with the same successors, in
// the same order, as the disjuncts and constructors evaluated one by one.
package eval
