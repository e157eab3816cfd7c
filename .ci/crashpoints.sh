#!/usr/bin/env bash
# make crashpoints: every crash-point test (ALICE/CrashMonkey style) with its
# full set (CRASHPOINTS=full). Each test records a role's durable writes,
# fsyncs, renames and directory fsyncs, restarts the role from the state a
# crash after each leaves (the last unsynced write whole, torn, zero-filled
# or dropped) and prints one line
#   crashpoints: role=R points=N torn=N dropped=N failures=N
# which this script collects into a table. To add a role, add its package
# and test name pattern to CRASHPOINT_PKGS / CRASHPOINT_RUN (or print the same
# line from a test that matches 'CrashPoints').
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=${CRASHPOINT_PKGS:-"./meter/ ./gateway/ ./headend/"}
run=${CRASHPOINT_RUN:-CrashPoints}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# shellcheck disable=SC2086
CRASHPOINTS=full go test -count=1 -timeout 30m -run "$run" -v $pkgs >"$log" 2>&1 || status=$?
printf '%-16s %10s %10s %10s %10s %10s\n' role points torn dropped states failures
grep -E '^crashpoints: role=' "$log" | sort -u | awk '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    states = v["points"] + v["torn"] + v["dropped"]
    printf "%-16s %10d %10d %10d %10d %10d\n", v["role"], v["points"], v["torn"], v["dropped"], states, v["failures"]
    P += v["points"]; T += v["torn"]; D += v["dropped"]; S += states; F += v["failures"] }
  END { printf "%-16s %10d %10d %10d %10d %10d\n", "total", P, T, D, S, F }'
if [ "$status" -ne 0 ]; then
  grep -E -- '--- FAIL|_test.go:[0-9]+:|panic' "$log" | grep -v 'crashpoints: role=' | head -40
  echo "crashpoints: FAILED"
  exit "$status"
fi
echo "crashpoints: ok"
