// Package fuzz holds what the fuzzing of verimeter shares across packages:
// the rule, enforced by TestEveryDecoderHasAFuzzTarget, that every exported
// function or method reading untrusted bytes has a fuzz target; and the
// adversary campaign (package adversary). The targets themselves live beside
// the code they exercise (FuzzXxx in each package's _test.go files), where
// Go's fuzzer finds them and keeps found crashers in testdata/fuzz as
// regression tests; beside them each target has a small committed seed
// corpus there, replayed by every go test. The head-end's HTTP API is
// fuzzed through its http.Handler (headend FuzzHTTPAPI). make fuzz runs every target for FUZZTIME (default 1m),
// make test for a few seconds each (.ci/fuzz.sh).
package fuzz
