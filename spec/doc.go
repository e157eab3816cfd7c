// Package spec holds the TLA+ specification of verimeter's protocol (the
// .tla modules and their .cfg models; see README.md) and the tests that
// model-check it: every model must pass, and each of the mutants of
// mutants.tsv (a weakening deployed systems had) must be caught by the
// property it names. The models are checked with our own checker (tla/);
// TLC, the reference checker, checks what ours does not support yet
// (temporal properties) and runs beside ours as a differential test.
package spec
