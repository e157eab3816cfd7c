#!/usr/bin/env bash
# Long reliability campaign: the linearizability tests with far more histories
# than make test runs (SOAK_HISTORIES, default 50000 per test), and the crash
# tests. Prints a short table; exits non-zero on any non-linearizable history.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${SOAK_HISTORIES:-50000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
status=0
VERIMETER_LIN_HISTORIES=$n go test -count=1 -timeout 60m -run 'Linearizab|Crash' -v ./... >"$log" 2>&1 || status=$?
echo "soak: $(( $(date +%s) - start )) s, $n histories per linearizability test"
printf '%-60s %s\n' "test" "result"
grep -E '^(--- (PASS|FAIL)|    .*histories)' "$log" | sed 's/^    /      /' || true
if [ "$status" -ne 0 ]; then
  grep -E 'FAIL|visualisation' "$log" | head -40
  exit "$status"
fi
# Load: 1,000 gateway TLS connections for LOAD_SECONDS (default 60, bounded
# to 100 requests per connection), p50/p99, errors and memory.
echo
echo "load: 1000 TLS gateway connections for ${LOAD_SECONDS:-60} s"
VERIMETER_LOAD_SECONDS=${LOAD_SECONDS:-60} go test -count=1 -run '^$' -bench Load1000Gateways -benchtime 1x -timeout 20m ./headend | grep -E '^Benchmark|FAIL'
