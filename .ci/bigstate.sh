#!/usr/bin/env bash
# make bigstate: a state space larger than the checker's former memory use
# (tla/check/testdata/bigstate/Grid.cfg: 100,020,001 states; BIGSTATE_CFG
# picks another .cfg, e.g. Grid10M.cfg with 10,246,401, with
# BIGSTATE_CHECKPOINT=1s BIGSTATE_FPMEM=512MiB so that it is killed at a
# checkpoint before it ends), checked by our
# checker with the trace on disk and the fingerprint table sized up front,
# killed half-way and resumed with -recover, then by TLC; prints both
# counts, times, peak RSS and our bytes per distinct state. Long: about an
# hour on 2 cores for the default model. Not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
cfg=${BIGSTATE_CFG:-tla/check/testdata/bigstate/Grid.cfg}
spec=tla/check/testdata/bigstate/Grid.tla
tlc=$(realpath "${VERIMETER_TLC:-../shared/tools/tlc/tlc}")
workers=${WORKERS:-2}
memory=${BIGSTATE_MEMORY:-4608MiB}
fpmem=${BIGSTATE_FPMEM:-4GiB}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# TLC leaves an empty tlc-NNN directory in Java's temporary directory at
# every run: there, the one this script removes
export TLC_JAVA_OPTS="${TLC_JAVA_OPTS:-} -Djava.io.tmpdir=$work"
bin=$work/verimeter
go build -o "$bin" ./cmd/verimeter
flags=(-json -progress 0 -workers "$workers" -memory "$memory" -fpmem "$fpmem" -queuemem 256MiB -config "$cfg")
field() { sed -n "s/.*\"$1\": *\\([0-9.eE+-]*\\).*/\\1/p" | head -1; }

t0=$(date +%s.%N)
ours=$(/usr/bin/time -f '%M' -o "$work/rss" "$bin" check "${flags[@]}" -metadir "$work/run" "$spec")
t1=$(date +%s.%N)
distinct=$(echo "$ours" | field distinct_states)
generated=$(echo "$ours" | field states_generated)
rss=$(cat "$work/rss")
awk -v d="$distinct" -v g="$generated" -v r="$rss" -v a="$t0" -v b="$t1" 'BEGIN {
  printf "ours:  %d distinct, %d generated, %.0f s, peak RSS %.0f MiB, %.1f bytes per distinct state\n", d, g, b-a, r/1024, r*1024/d }'

# Killed once a checkpoint holds half the states, then resumed. A run
# that ends before (a checkpoint takes as long as writing the fingerprint
# table: -fpmem's bytes) is resumed from its last checkpoint, and said so;
# one without any checkpoint is an error (BIGSTATE_CHECKPOINT shorter,
# BIGSTATE_FPMEM smaller). Every 10 s by default: the default model's
# run takes about a minute.
every=${BIGSTATE_CHECKPOINT:-10s}
"$bin" check "${flags[@]}" -metadir "$work/cp" -checkpoint "$every" "$spec" >/dev/null &
pid=$!
killed=""
while kill -0 "$pid" 2>/dev/null; do
  at=$({ field distinct < "$work/cp/checkpoint/meta.json"; } 2>/dev/null || true)
  if [ -n "$at" ] && [ "$at" -ge $((distinct / 2)) ]; then kill -KILL "$pid"; killed=1; break; fi
  sleep 1
done
wait "$pid" 2>/dev/null || true
at=$({ field distinct < "$work/cp/checkpoint/meta.json"; } 2>/dev/null || true)
if [ -z "$at" ]; then
  echo "bigstate: the run ended before its first checkpoint (every $every): set BIGSTATE_CHECKPOINT shorter or BIGSTATE_FPMEM smaller"
  exit 1
fi
rec=$("$bin" check "${flags[@]}" -recover "$work/cp" "$spec")
rd=$(echo "$rec" | field distinct_states); rg=$(echo "$rec" | field states_generated)
if [ -n "$killed" ]; then
  echo "killed at a checkpoint of $at states; -recover: $rd distinct, $rg generated"
else
  echo "the run ended before a checkpoint held half the states; -recover from its last, of $at states: $rd distinct, $rg generated"
fi
status=0
[ "$rd" = "$distinct" ] && [ "$rg" = "$generated" ] || { echo "bigstate: recovered counts differ"; status=1; }

t2=$(date +%s.%N)
theirs=$(cd "$(dirname "$spec")" && /usr/bin/time -f '%M' -o "$work/tlcrss" "$tlc" -workers "$workers" -config "$(basename "$cfg")" Grid.tla 2>&1 || true)
t3=$(date +%s.%N)
td=$(echo "$theirs" | grep -Eo '[0-9,]+ distinct states found' | tail -1 | tr -d ',' | cut -d' ' -f1)
awk -v d="$td" -v r="$(cat "$work/tlcrss")" -v a="$t2" -v b="$t3" 'BEGIN { printf "TLC:   %d distinct, %.0f s, peak RSS %.0f MiB\n", d, b-a, r/1024 }'
[ "$td" = "$distinct" ] || { echo "bigstate: TLC found ${td:-?} distinct states, ours $distinct"; status=1; }
exit $status
