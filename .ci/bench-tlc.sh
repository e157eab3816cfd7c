#!/usr/bin/env bash
# make bench-tlc: our checker and TLC, the reference checker, on the same
# models in one run, with the same number of workers (default 2), and the
# ratio of their wall-clock times; then ours again with one worker, and how
# much faster the workers made it (speedup: one worker's time over
# theirs). Models: BENCH_MODELS (paths of .cfg files under the conformance
# suite), default the two large safety models and two small ones.
#
# A shared machine's speed drifts by a quarter from one minute to the next,
# so each model is measured BENCH_RUNS times (default 5) in rounds, each
# round running ours, TLC and ours with one worker one after the other, so
# that a slow minute slows all three. The table gives the median of each;
# the line under it every run, so the spread is in the record too.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${VERIMETER_CONFORMANCE:-../shared/conformance/tla-examples}
tlc=$(realpath "${VERIMETER_TLC:-../shared/tools/tlc/tlc}")
workers=${WORKERS:-2}
runs=${BENCH_RUNS:-5}
models=${BENCH_MODELS:-"transaction_commit/TwoPhase.cfg SpecifyingSystems/FIFO/MCInnerFIFO.cfg lamport_mutex/MCLamportMutex.cfg transaction_commit/PaxosCommit.cfg"}
[ -f "$suite/expected.tsv" ] || { echo "bench-tlc: conformance suite not found at $suite (set VERIMETER_CONFORMANCE)"; exit 2; }
case $runs in '' | *[!0-9]* | 0) echo "bench-tlc: BENCH_RUNS must be a positive number, got '$runs'"; exit 2 ;; esac
bin=$(mktemp -d)/verimeter; trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/verimeter
# TLC leaves an empty tlc-NNN directory in Java's temporary directory at
# every run: there, the one this script removes
export TLC_JAVA_OPTS="${TLC_JAVA_OPTS:-} -Djava.io.tmpdir=$(dirname "$bin")"
now() { date +%s.%N; }
# median of the numbers in its arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "bench-tlc: $workers workers, $runs runs per model, medians (every run on the line below)"
printf '%-45s %10s %9s %9s %12s %9s %9s %8s %9s %8s\n' model distinct ours_s TLC_s ours_st/s peak_MiB TLC_MiB TLC/ours ours_1w_s speedup
status=0
for m in $models; do
  spec=$(awk -F'\t' -v m="$m" '$1==m {print $2}' "$suite/expected.tsv")
  [ -n "$spec" ] || { echo "bench-tlc: $m is not in expected.tsv"; status=1; continue; }
  dir="$suite/$(dirname "$spec")"
  ours=() theirs=() one=() rss=() tlcrss=()
  for ((r = 1; r <= runs; r++)); do
    t0=$(now)
    out=$(/usr/bin/time -f '%M' -o "$bin.rss" "$bin" check -json -progress 0 -workers "$workers" -config "$suite/$m" "$suite/$spec" || true)
    t1=$(now)
    rss+=($(($(cat "$bin.rss") / 1024)))
    tout=$(cd "$dir" && /usr/bin/time -f '%M' -o "$bin.tlcrss" "$tlc" -workers "$workers" -config "$(basename "$m")" "$(basename "$spec")" 2>&1 || true)
    t2=$(now)
    tlcrss+=($(($(cat "$bin.tlcrss") / 1024)))
    # the same check with one worker: how far the workers speed it up
    if [ "$workers" -gt 1 ]; then
      "$bin" check -json -progress 0 -workers 1 -config "$suite/$m" "$suite/$spec" >/dev/null || true
    fi
    t3=$(now)
    ours+=($(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b-a}'))
    theirs+=($(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.2f", b-a}'))
    one+=($(awk -v a="$t2" -v b="$t3" 'BEGIN {printf "%.2f", b-a}'))
    distinct=$(echo "$out" | sed -n 's/.*"distinct_states": \([0-9]*\).*/\1/p')
    tlcdistinct=$(echo "$tout" | grep -Eo '[0-9,]+ distinct states found' | tail -1 | tr -d ',' | cut -d' ' -f1)
    if [ "$distinct" != "$tlcdistinct" ]; then
      echo "bench-tlc: $m (run $r): ours $distinct distinct states, TLC ${tlcdistinct:-?}"; status=1
    fi
  done
  o=$(median "${ours[@]}") t=$(median "${theirs[@]}") w1=$(median "${one[@]}")
  awk -v m="$m" -v d="$distinct" -v o="$o" -v t="$t" -v r="$(median "${rss[@]}")" -v tr="$(median "${tlcrss[@]}")" -v one="$w1" -v w="$workers" 'BEGIN {
    printf "%-45s %10s %9.2f %9.2f %12.0f %9d %9d %7.2fx", m, d, o, t, (o>0?d/o:0), r, tr, (o>0?t/o:0)
    if (w > 1) printf " %9.2f %7.2fx\n", one, (o>0?one/o:0); else printf " %9s %8s\n", "-", "-" }'
  echo "    runs: ours ${ours[*]} s; TLC ${theirs[*]} s$([ "$workers" -gt 1 ] && echo "; ours, 1 worker: ${one[*]} s")"
done
exit $status
