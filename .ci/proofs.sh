#!/usr/bin/env bash
# make proofs: regenerate the table of proofs/README.md from a checker run.
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh
go test -count=1 ./spec -run TestProofsReadme -update
echo "proofs/README.md regenerated"
