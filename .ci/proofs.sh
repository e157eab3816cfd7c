#!/usr/bin/env bash
# make proofs: regenerate the table of proofs/README.md from the checker's
# JSON output. Each row of proofs/models.tsv is staged (spec/ and proofs/
# modules and the row's configuration) and checked with
# `verimeter check -json` (temporal properties too).
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/verimeter" ./cmd/verimeter
go test -count=1 ./spec -run '^TestProofsReadme$' -stage "$tmp/rows" >/dev/null
for dir in "$tmp"/rows/*/; do
  mod=$(cat "$dir/MODULE")
  row=$(basename "$dir")
  code=0
  "$tmp/verimeter" check -json -progress 0 -config "$dir/$mod.cfg" "$dir/$mod.tla" > "$dir/result.json" || code=$?
  echo "$row: verimeter check exit $code, $(grep -o '"distinct_states": [0-9]*' "$dir/result.json")"
done
go test -count=1 ./spec -run '^TestProofsReadme$' -update -results "$tmp/rows"
echo "proofs/README.md regenerated"
