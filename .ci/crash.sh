#!/usr/bin/env bash
# make crash: SIGKILL the head-end, the gateway or a meter at random points
# while the gateway collects and forwards (KILLS, default 200), restart what
# was killed, then check that every meter's day is stored exactly once and
# that no (key, nonce) pair sealed two different APDUs. make test runs a
# short campaign of the same test.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${KILLS:-200}
VERIMETER_CRASH_KILLS=$kills go test -count=1 -timeout 60m -run TestCrashCampaign -v ./cmd/verimeter 2>&1 | grep -E 'crash campaign|^(--- |ok|FAIL)|crash_test.go'
