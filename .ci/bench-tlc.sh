#!/usr/bin/env bash
# make bench-tlc: our checker and TLC, the reference checker, on the same
# models in one run, with the same number of workers (default 2), and the
# ratio of their wall-clock times; then ours again with one worker, and how
# much faster the workers made it (speedup: one worker's time over
# theirs). Models: BENCH_MODELS (paths of .cfg files under the conformance
# suite), default the two large safety models and two small ones.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${VERIMETER_CONFORMANCE:-../shared/conformance/tla-examples}
tlc=$(realpath "${VERIMETER_TLC:-../shared/tools/tlc/tlc}")
workers=${WORKERS:-2}
models=${BENCH_MODELS:-"transaction_commit/TwoPhase.cfg SpecifyingSystems/FIFO/MCInnerFIFO.cfg lamport_mutex/MCLamportMutex.cfg transaction_commit/PaxosCommit.cfg"}
[ -f "$suite/expected.tsv" ] || { echo "bench-tlc: conformance suite not found at $suite (set VERIMETER_CONFORMANCE)"; exit 2; }
bin=$(mktemp -d)/verimeter; trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/verimeter
now() { date +%s.%N; }
printf '%-45s %10s %9s %9s %12s %9s %9s %8s %9s %8s\n' model distinct ours_s TLC_s ours_st/s peak_MiB TLC_MiB TLC/ours ours_1w_s speedup
status=0
for m in $models; do
  spec=$(awk -F'\t' -v m="$m" '$1==m {print $2}' "$suite/expected.tsv")
  [ -n "$spec" ] || { echo "bench-tlc: $m is not in expected.tsv"; status=1; continue; }
  dir="$suite/$(dirname "$spec")"
  t0=$(now)
  ours=$(/usr/bin/time -f '%M' -o "$bin.rss" "$bin" check -json -progress 0 -workers "$workers" -config "$suite/$m" "$suite/$spec" || true)
  t1=$(now)
  rss=$(( $(cat "$bin.rss") / 1024 ))
  theirs=$(cd "$dir" && /usr/bin/time -f '%M' -o "$bin.tlcrss" "$tlc" -workers "$workers" -config "$(basename "$m")" "$(basename "$spec")" 2>&1 || true)
  t2=$(now)
  tlcrss=$(( $(cat "$bin.tlcrss") / 1024 ))
  # the same check with one worker: how far the workers speed it up
  t3=$(now)
  if [ "$workers" -gt 1 ]; then
    "$bin" check -json -progress 0 -workers 1 -config "$suite/$m" "$suite/$spec" >/dev/null || true
  fi
  t4=$(now)
  distinct=$(echo "$ours" | sed -n 's/.*"distinct_states": \([0-9]*\).*/\1/p')
  tlcdistinct=$(echo "$theirs" | grep -Eo '[0-9,]+ distinct states found' | tail -1 | tr -d ',' | cut -d' ' -f1)
  if [ "$distinct" != "$tlcdistinct" ]; then
    echo "bench-tlc: $m: ours $distinct distinct states, TLC ${tlcdistinct:-?}"; status=1
  fi
  awk -v m="$m" -v d="$distinct" -v a="$t0" -v b="$t1" -v c="$t2" -v r="$rss" -v tr="$tlcrss" -v e="$t3" -v f="$t4" -v w="$workers" 'BEGIN {
    o=b-a; t=c-b; one=f-e
    printf "%-45s %10s %9.2f %9.2f %12.0f %9d %9d %7.2fx", m, d, o, t, (o>0?d/o:0), r, tr, (o>0?t/o:0)
    if (w > 1) printf " %9.2f %7.2fx\n", one, (o>0?one/o:0); else printf " %9s %8s\n", "-", "-" }'
done
exit $status
