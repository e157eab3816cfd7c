#!/usr/bin/env bash
# Runs every fuzz target of the module (each func FuzzXxx in a _test.go file)
# for FUZZTIME each. make test runs it with a few seconds per target; make fuzz
# with FUZZTIME (default 1m). Crashers found by the fuzzer are written by Go to
# the package's testdata/fuzz/FuzzXxx and so become regression tests.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-1m}
pkgs=0; targets=0; failed=0
while IFS= read -r dir; do
  names=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u)
  for name in $names; do
    targets=$((targets+1))
    echo "fuzz: ./$dir $name for $fuzztime"
    if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir" > /tmp/verimeter-fuzz-$$.log 2>&1; then
      cat /tmp/verimeter-fuzz-$$.log
      failed=$((failed+1))
    fi
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sed 's|^\./||' | sort -u)
rm -f /tmp/verimeter-fuzz-$$.log
echo "fuzz: $targets targets, $failed failed"
[ "$failed" -eq 0 ]
