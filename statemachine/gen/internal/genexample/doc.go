// Package genexample is a machine generated from Window.tla, a small module
// written for statemachine/gen's own tests: it exercises what the protocol's
// spec does not yet use in a generated role (IF over assignments, tuples,
// events with several parameters) against the evaluator.
package genexample

//go:generate go test -run TestGenExampleUpToDate -write .
