// Package syntax is the front end of verimeter's TLA+ checker: a lexer and
// a parser for TLA+ modules as written in the tlaplus examples and in our
// spec/ (modules and nested modules, EXTENDS, CONSTANT(S) and VARIABLE(S),
// definitions with ordinary, higher-order, infix, prefix and postfix
// parameters, function definitions, INSTANCE ... WITH, LOCAL, RECURSIVE,
// named ASSUME, labels, the full expression language with bulleted /\ and
// \/ lists aligned by column as the TLA+ book, section 15.2.2, specifies).
// THEOREM, LEMMA and their TLAPS proofs are skipped, as is the text outside
// the module and inside comments (where the PlusCal algorithm lives). Every
// node keeps its position; errors are *Error and read file:line:col: message.
package syntax
