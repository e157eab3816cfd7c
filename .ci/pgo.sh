#!/usr/bin/env bash
# make pgo: regenerate cmd/verimeter/default.pgo, the CPU profile the Go
# compiler uses to optimise the verimeter binary (profile-guided
# optimisation: it inlines the hot calls and devirtualises the hot
# interface calls of the evaluator). The profile is of our checker on
# models of the tlaplus/Examples corpus (../shared/corpus/tlaplus-examples
# or $VERIMETER_CORPUS) with two workers. The models make bench-tlc
# measures (PaxosCommit, MCLamportMutex) are left out on purpose, so that
# the speed bench-tlc reports is that of a binary not trained on them.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${VERIMETER_CORPUS:-../shared/corpus/tlaplus-examples}
[ -d "$corpus/specifications" ] || { echo "pgo: corpus not found at $corpus (set VERIMETER_CORPUS)"; exit 2; }
models="
Bakery-Boulangerie/MCBakery.cfg:MCBakery.tla
CheckpointCoordination/MCCheckpointCoordinationFailure.cfg:MCCheckpointCoordination.tla
CoffeeCan/CoffeeCan1000Beans.cfg:CoffeeCan.tla
FiniteMonotonic/MCCRDT.cfg:MCCRDT.tla
GameOfLife/GameOfLife.cfg:GameOfLife.tla
Huang/Huang.cfg:Huang.tla
KeyValueStore/MCKVsnap.cfg:MCKVsnap.tla
MultiPaxos-SMR/MultiPaxos_MC_small.cfg:MultiPaxos_MC.tla
NanoBlockchain/MCNanoMedium.cfg:MCNano.tla
SimplifiedFastPaxos/FastPaxos.cfg:FastPaxos.tla
SlushProtocol/SlushSmall.cfg:Slush.tla
allocator/AllocatorImplementation.cfg:AllocatorImplementation.tla
btree/btree.cfg:btree.tla
cf1s-folklore/cf1s_folklore.cfg:cf1s_folklore.tla
dag-consensus/TLCSailfish1.cfg:TLCSailfish1.tla
ewd687a/MCEWD687a.cfg:MCEWD687a.tla
ewd998/EWD998PCal.cfg:EWD998PCal.tla
"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# built without a profile, so that the new one does not depend on the old
go build -pgo=off -o "$tmp/verimeter" ./cmd/verimeter
profiles=()
for m in $models; do
  cfg=${m%%:*}; spec=$(dirname "$cfg")/${m##*:}
  out="$tmp/$(basename "$cfg" .cfg).prof"
  start=$(date +%s)
  # a model whose check finds a violation exits 1; its profile counts all the same
  "$tmp/verimeter" check -progress 0 -workers 2 -cpuprofile "$out" \
    -config "$corpus/specifications/$cfg" "$corpus/specifications/$spec" >"$tmp/log" 2>&1 || true
  if [ ! -s "$out" ]; then
    echo "pgo: $cfg wrote no profile:"; tail -5 "$tmp/log"; exit 1
  fi
  echo "pgo: $cfg $(( $(date +%s) - start )) s: $(tail -1 "$tmp/log")"
  profiles+=("$out")
done
go tool pprof -proto "${profiles[@]}" > "$tmp/default.pgo"
[ -s "$tmp/default.pgo" ] || { echo "pgo: go tool pprof wrote an empty profile"; exit 1; }
mv "$tmp/default.pgo" cmd/verimeter/default.pgo
echo "pgo: wrote cmd/verimeter/default.pgo ($(wc -c < cmd/verimeter/default.pgo) bytes) from ${#profiles[@]} models"
