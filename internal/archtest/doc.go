// Package archtest holds the tests of the house's import rules: the data
// flows spec → checker/generator → generated machines → roles, with
// protocol/, plc/ and the WAN contract beneath. A role never imports
// another role, the device builds of the meter and the gateway never link
// the TLA+ engine or the generator, and production packages never link the
// simulated world (fault injection, attacker, scenarios). The rules are
// checked on the package graph `go list` reports, so a new import that
// breaks one fails `make test` instead of waiting for a review. The same
// package keeps ARCHITECTURE.md true: every path, function and test it
// names exists, and its import table is what `go list` reports.
package archtest
