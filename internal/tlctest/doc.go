// Package tlctest finds TLC, the reference TLA+ checker, for the tests
// that compare our checker's results and output with it (counts, traces,
// printed values). It is test support only; no production package imports
// it.
package tlctest
