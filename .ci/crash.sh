#!/usr/bin/env bash
# make crash: SIGKILL the head-end, the gateway or a meter at random points
# while the gateway collects, forwards and relays a firmware campaign each
# round (KILLS, default 200; some kills aimed at a meter while it installs),
# restart what was killed, then check that every meter's day is stored
# exactly once, that no (key, nonce) pair sealed two different APDUs, that
# every install is complete or rolled back, and that the spec trace logs
# every process keeps (-spec-trace), the killed and restarted ones
# included, are behaviours of the spec. make test runs a short
# campaign of the same test. Prints a table of the figures; exits non-zero
# on any loss, duplicate, nonce reuse, broken install or unexplained log.
#
# Then the WAN fault campaign: a fault-injecting proxy (internal/faultproxy)
# between the gateways and the head-end injects WAN_FAULTS faults (default
# 1000: drops, resets mid-request, delays, half-open connections, lost
# answers, replayed streams) during collection; every queued item must be
# stored exactly once. Its row: wan faults injected N, lost 0, duplicated 0,
# stored once M/M.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${KILLS:-200}
wan=${WAN_FAULTS:-1000}
log=$(mktemp)
wlog=$(mktemp)
trap 'rm -f "$log" "$wlog"' EXIT
status=0
VERIMETER_CRASH_KILLS=$kills go test -count=1 -timeout 90m -run '^TestCrashCampaign$' -v ./cmd/verimeter >"$log" 2>&1 || status=$?
grep -E 'crash campaign:|seed' "$log" | sed 's/^ *crash_test.go:[0-9]*: //' || true
echo
printf '%-26s %s\n' "crash campaign" "count"
sed -n 's/^ *crash_test.go:[0-9]*: figure: //p' "$log" | awk '{v=$NF; $NF=""; sub(/ +$/, ""); printf "%-26s %s\n", $0, v}'
wstatus=0
VERIMETER_WAN_FAULTS=$wan go test -count=1 -timeout 90m -run '^TestWANFaultCampaign$' -v ./cmd/verimeter >"$wlog" 2>&1 || wstatus=$?
echo
grep -E 'wan campaign:|seed' "$wlog" | sed 's/^ *wanfault_test.go:[0-9]*: //' || true
printf '%-26s %s\n' "wan fault campaign" "count"
sed -n 's/^ *wanfault_test.go:[0-9]*: figure: wan //p' "$wlog" | awk '{v=$NF; $NF=""; sub(/ +$/, ""); printf "%-26s %s\n", $0, v}'
grep -E 'wan faults injected' "$wlog" | sed 's/^ *wanfault_test.go:[0-9]*: //' || true
if [ "$status" -ne 0 ]; then
  grep -E 'FAIL|Error|panic|crash_test.go' "$log" | grep -v 'figure:' | head -40
fi
if [ "$wstatus" -ne 0 ]; then
  grep -E 'FAIL|Error|panic|wanfault_test.go' "$wlog" | grep -v 'figure:' | head -40
fi
if [ "$status" -ne 0 ] || [ "$wstatus" -ne 0 ]; then
  echo "crash: FAILED"
  exit 1
fi
echo "crash: ok"
