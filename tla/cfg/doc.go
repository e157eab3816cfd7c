// Package cfg parses TLC's model configuration files (.cfg): the constants
// of a model (values, model values, sets and tuples of them, substitutions
// by definitions, also into instantiated modules), the behaviour (INIT and
// NEXT, or SPECIFICATION), the invariants, properties, state and action
// constraints, SYMMETRY, VIEW, ALIAS, POSTCONDITION and CHECK_DEADLOCK.
// Comments are \* and nested (* *). Every error reads file:line:col: message
// and wraps ErrSyntax. It is the first piece of verimeter's own TLA+ checker
// (tla/), which takes its models from the same files TLC does.
package cfg
