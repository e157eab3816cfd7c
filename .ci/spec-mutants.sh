#!/usr/bin/env bash
# make spec-mutants: each weakening of spec/mutants.tsv must be caught by the
# property it names; prints "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh
out=$(go test -count=1 -run TestMutantsAreCaught -v ./spec 2>&1) || true
echo "$out" | grep -E 'mutant +[0-9]+ ' || true
passed=$(echo "$out" | grep -c -- '--- PASS: TestMutantsAreCaught/' || true)
failed=$(echo "$out" | grep -c -- '--- FAIL: TestMutantsAreCaught/' || true)
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -ge 16 ]
