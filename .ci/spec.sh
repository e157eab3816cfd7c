#!/usr/bin/env bash
# make spec: every model of spec/ (the small ones, as in make test, and the
# large ones of spec/large/) with our checker, `verimeter check -json`,
# temporal properties (L1) included, with -coverage-strict: an action never
# enabled or adding no state fails the model unless its configuration says
# why (`\* @uncovered Action: reason`, spec/README.md). Then SANY on every module of spec/ and proofs/ and
# the differential test (TLC and ours: same verdict and distinct states on
# the small models and the mutants). Prints states and times per model.
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/verimeter" ./cmd/verimeter
tlc=$(realpath "${VERIMETER_TLC:-../shared/tools/tlc/tlc}")
field() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$2" | head -1; }
status=0
for cfg in spec/*.cfg spec/large/*.cfg; do
  name=${cfg#spec/}
  base=$(basename "$cfg" .cfg)
  # CollectionLive.cfg checks Collection.tla: the module is the longest
  # prefix of the model's name that names a module.
  mod=$base
  while [ ! -f "spec/$mod.tla" ] && [ -n "$mod" ]; do mod=${mod%[A-Z]*}; done
  [ -n "$mod" ] || { echo "$name: no module"; status=1; continue; }
  code=0
  "$tmp/verimeter" check -json -coverage-strict -progress 0 -config "$cfg" "spec/$mod.tla" > "$tmp/out.json" || code=$?
  result=$(field result "$tmp/out.json")
  if [ "$code" -eq 0 ] && [ "$result" = success ]; then
    printf '%-24s ok, %s distinct states, %.1f s (verimeter check, %s workers)\n' "$name" \
      "$(field distinct_states "$tmp/out.json")" "$(field seconds "$tmp/out.json")" "$(field workers "$tmp/out.json")"
  else
    echo "$name: FAILED (verimeter check exit $code: $result)"; cat "$tmp/out.json"; status=1
  fi
done
out=$(go test -count=1 -run 'TestSANYParsesEveryModule|TestDifferentialTLC|TestEveryActionAndVariableHasARole|TestCoverageMatchesTLC|TestEveryPropertyHasAMutant' -v ./spec 2>&1) || status=1
echo "$out" | grep -E 'both |^(--- FAIL|FAIL|ok)' || true
exit $status
