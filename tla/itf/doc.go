// Package itf writes a counterexample in the Informal Trace Format (ITF),
// the JSON trace format of Apalache and Quint, so that their tools (trace
// viewers, Quint's REPL, test generators) read traces found by our checker.
//
// Values map as ITF prescribes: booleans and strings to JSON, integers to
// {"#bigint": "n"}, sets to {"#set": [...]}, sequences (tuples) to arrays,
// records to objects and other functions to {"#map": [[k, v], ...]}; model
// values, which ITF has no form for, to {"#unserializable": "name"}.
package itf
