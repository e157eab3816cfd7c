// Package spec holds the TLA+ specification of verimeter's protocol (the
// .tla modules and their .cfg models; see README.md) and the tests that
// model-check it: every model must pass, and each of the mutants of
// mutants.tsv (a weakening deployed systems had) must be caught by the
// property it names. Until our own checker (tla/) exists the models are
// checked with TLC, the reference checker; both must agree later.
package spec
