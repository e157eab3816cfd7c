#!/usr/bin/env bash
# make spec: every model of spec/ (the small ones, as in make test, and the
# large ones of spec/large/), checked with TLC, the reference checker, until
# our own checker (tla/) can take over. Prints distinct states and times.
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh
go test -count=1 -run 'TestModelsPass|TestSANYParsesEveryModule' -v ./spec | grep -E 'distinct states|^(---|ok|FAIL)' || true
tlc=${VERIMETER_TLC:-../shared/tools/tlc/tlc}
status=0
for cfg in spec/large/*.cfg; do
  mod=$(basename "$cfg" .cfg)
  start=$(date +%s)
  out=$(cd spec && "../$tlc" -workers "$(nproc)" -config "large/$mod.cfg" "$mod.tla" 2>&1) || true
  states=$(echo "$out" | grep -Eo '[0-9,]+ distinct states found' | tail -1)
  if echo "$out" | grep -q 'No error has been found'; then
    echo "large/$mod.cfg: ok, $states, $(( $(date +%s) - start )) s"
  else
    echo "large/$mod.cfg: FAILED"; echo "$out" | tail -30; status=1
  fi
done
exit $status
