# verimeter — make test is what CI runs (.ci/run); everything longer has its own target.
SHELL := /usr/bin/env bash
GO ?= go
FUZZTIME ?= 1m
CI_FUZZTIME ?= 3s
# staticcheck, pinned: go run fetches this version through the module proxy.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
CONFORMANCE ?= $(or $(VERIMETER_CONFORMANCE),../shared/conformance/tla-examples)

.PHONY: test deps lint unit fuzz-short fuzz conformance corpus corpus-large bench bench-tlc bench-ab pgo bigstate cross spec spec-mutants proofs soak crash crashpoints

## test: lint, all unit/property/differential tests, a short fuzz pass (under 20 min on 2 cores)
test: deps lint unit fuzz-short

deps:
	@./.ci/deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -count=1 -timeout 18m ./...

fuzz-short:
	FUZZTIME=$(CI_FUZZTIME) ./.ci/fuzz.sh

## fuzz: every fuzz target for FUZZTIME (default 1m)
fuzz:
	FUZZTIME=$(FUZZTIME) ./.ci/fuzz.sh

## conformance: our checker on every model of expected.tsv, against TLC's verdicts and counts
conformance:
	$(GO) run ./cmd/verimeter conformance $(CONFORMANCE)

## corpus: our checker on the tlaplus/Examples models TLC checks exhaustively in up to 2 minutes, against TLC's recorded results
corpus:
	./.ci/corpus.sh -max-runtime 2m -timeout 2m

## corpus-large: the same for the models TLC recorded at over 2 minutes (or an unknown time)
corpus-large:
	./.ci/corpus.sh -min-runtime 2m -timeout 30m -mem 16384

## bench: Go benchmarks of every package
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bigstate: 10^8 states (trace on disk, sized fingerprint table), a kill and -recover, and TLC on the same model (about an hour)
bigstate: deps
	./.ci/bigstate.sh

## bench-tlc: our checker and TLC on the same models in one run, with the ratio, and our one-worker speedup
bench-tlc: deps
	./.ci/bench-tlc.sh

## pgo: regenerate cmd/verimeter/default.pgo, the CPU profile go build optimises the verimeter binary with, from corpus models (not the bench-tlc ones)
pgo:
	./.ci/pgo.sh

## bench-ab: two builds of our checker (BEFORE=binary, AFTER= default this tree) alternating on the same models, medians and ratio
bench-ab:
	./.ci/bench-ab.sh

## cross: meter and gateway for arm, arm64, mips, mipsle, riscv64; protocol/ and plc/ tests under qemu-user
cross:
	./.ci/cross.sh

## spec: every model of spec/ (and spec/large/) with our checker (TLC for liveness), SANY, TLC vs ours
spec:
	./.ci/spec.sh

## spec-mutants: each weakening of the protocol must be caught by a property (charts in out/spec-mutants/)
spec-mutants:
	./.ci/spec-mutants.sh

## proofs: regenerate proofs/README.md from the checker's JSON output
proofs:
	./.ci/proofs.sh

## soak, crash: long reliability campaigns
soak:
	./.ci/soak.sh

crash:
	./.ci/crash.sh

## crashpoints: replay a crash at every durable write of the meter and the gateway queue (and more roles as they add theirs); a table
crashpoints:
	./.ci/crashpoints.sh
