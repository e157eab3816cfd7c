#!/usr/bin/env bash
# make crash: SIGKILL the head-end, the gateway or a meter at random points
# while the gateway collects, forwards and relays a firmware campaign each
# round (KILLS, default 200; some kills aimed at a meter while it installs),
# restart what was killed, then check that every meter's day is stored
# exactly once, that no (key, nonce) pair sealed two different APDUs, and
# that every install is complete or rolled back. make test runs a short
# campaign of the same test. Prints a table of the figures; exits non-zero
# on any loss, duplicate, nonce reuse or broken install.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${KILLS:-200}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
VERIMETER_CRASH_KILLS=$kills go test -count=1 -timeout 90m -run '^TestCrashCampaign$' -v ./cmd/verimeter >"$log" 2>&1 || status=$?
grep -E 'crash campaign:|seed' "$log" | sed 's/^ *crash_test.go:[0-9]*: //' || true
echo
printf '%-26s %s\n' "crash campaign" "count"
sed -n 's/^ *crash_test.go:[0-9]*: figure: //p' "$log" | awk '{v=$NF; $NF=""; sub(/ +$/, ""); printf "%-26s %s\n", $0, v}'
if [ "$status" -ne 0 ]; then
  grep -E 'FAIL|Error|panic|crash_test.go' "$log" | grep -v 'figure:' | head -40
  echo "crash: FAILED"
  exit "$status"
fi
echo "crash: ok"
