#!/usr/bin/env bash
# Long reliability campaign: the linearizability tests with far more histories
# than make test runs (SOAK_HISTORIES, default 50000 per test) and the crash
# tests, then the load test: 1,000 gateway TLS connections for LOAD_SECONDS
# (default 60, bounded to 100 requests per connection). Prints a table of each;
# exits non-zero on any non-linearizable history, failed test or load error.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${SOAK_HISTORIES:-50000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
status=0
VERIMETER_LIN_HISTORIES=$n go test -count=1 -timeout 90m -run 'Linearizab|Crash' -v ./... >"$log" 2>&1 || status=$?
echo "soak: $(( $(date +%s) - start )) s, $n histories per linearizability test"
printf '%-52s %10s %12s  %s\n' "test" "histories" "operations" "result"
awk '
  /^=== RUN/ { test=$3 }
  /[0-9]+ histories, [0-9]+ operations/ {
    for (i=1; i<=NF; i++) { if ($(i+1) ~ /^histories,?$/) h[test]=$i; if ($(i+1) ~ /^operations,?$/) o[test]=$i }
  }
  /^--- (PASS|FAIL|SKIP)/ { sub(/:$/, "", $2); r[$3]=$2; order[++k]=$3 }
  END { for (i=1; i<=k; i++) { t=order[i]; printf "%-52s %10s %12s  %s\n", t, (t in h ? h[t] : "-"), (t in o ? o[t] : "-"), r[t] } }
' "$log"
if [ "$status" -ne 0 ]; then
  grep -E 'FAIL|visualisation|panic' "$log" | head -40
  echo "soak: FAILED"
  exit "$status"
fi
# Load: 1,000 gateway TLS connections on loopback.
secs=${LOAD_SECONDS:-60}
echo
echo "load: 1000 TLS gateway connections for $secs s"
status=0
VERIMETER_LOAD_SECONDS=$secs go test -count=1 -run '^$' -bench '^BenchmarkLoad1000Gateways$' -benchtime 1x -timeout 20m ./headend >"$log" 2>&1 || status=$?
line=$(grep -E '^BenchmarkLoad1000Gateways' "$log" || true)
if [ "$status" -ne 0 ] || [ -z "$line" ]; then
  cat "$log"
  echo "soak: load test FAILED"
  exit 1
fi
printf '%-14s %s\n' "figure" "value"
echo "$line" | awk '{ for (i=3; i<NF; i+=2) printf "%-14s %s\n", $(i+1), $i }'
errors=$(echo "$line" | awk '{ for (i=3; i<NF; i+=2) if ($(i+1) == "errors") print $i }')
if [ "${errors:-1}" != "0" ]; then
  echo "soak: $errors load errors"
  exit 1
fi
echo "soak: ok"
