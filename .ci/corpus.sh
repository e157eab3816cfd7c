#!/usr/bin/env bash
# make corpus / make corpus-large: our checker on every exhaustive-search
# model of the tlaplus/Examples corpus (../shared/corpus/tlaplus-examples or
# $VERIMETER_CORPUS), one subprocess per model under a timeout and a memory
# cap, against the result and distinct-state count TLC recorded in the
# manifests. Arguments go to `verimeter corpus` (-max-runtime, -min-runtime,
# -timeout, -run, -json). Exit 1 on any disagreement.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/verimeter" ./cmd/verimeter
"$tmp/verimeter" corpus "$@" "${VERIMETER_CORPUS:-../shared/corpus/tlaplus-examples}"
