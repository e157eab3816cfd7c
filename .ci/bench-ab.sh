#!/usr/bin/env bash
# make bench-ab BEFORE=path/to/verimeter [AFTER=path] [RUNS=3] [WORKERS=2]:
# two builds of our checker on the same models in one run, alternating
# (before, after, before, ...) so that a change in the machine's load hits
# both alike, with the median wall-clock and CPU (user + system) time of
# each and their ratios; on a shared machine the CPU time is the steadier. It is
# how a refactoring shows that it kept the checker's speed; bench-tlc
# compares us with TLC. AFTER defaults to a build of this tree. Models:
# BENCH_MODELS (paths of .cfg files under the conformance suite), default
# MCLamportMutex and PaxosCommit. Both builds must find the same number of
# distinct states.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${VERIMETER_CONFORMANCE:-../shared/conformance/tla-examples}
workers=${WORKERS:-2}
runs=${RUNS:-3}
models=${BENCH_MODELS:-"lamport_mutex/MCLamportMutex.cfg transaction_commit/PaxosCommit.cfg"}
[ -n "${BEFORE:-}" ] || { echo "bench-ab: set BEFORE to the verimeter binary to compare with (go build -o /tmp/vm-before ./cmd/verimeter on the old tree)"; exit 2; }
[ -x "$BEFORE" ] || { echo "bench-ab: $BEFORE is not an executable"; exit 2; }
[ -f "$suite/expected.tsv" ] || { echo "bench-ab: conformance suite not found at $suite (set VERIMETER_CONFORMANCE)"; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
after=${AFTER:-}
if [ -z "$after" ]; then
  after=$tmp/verimeter
  go build -o "$after" ./cmd/verimeter
fi
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
printf '%-40s %10s %-4s %s\n' model distinct time "before_s (runs) | after_s (runs) | median after/before"
status=0
for m in $models; do
  spec=$(awk -F'\t' -v m="$m" '$1==m {print $2}' "$suite/expected.tsv")
  [ -n "$spec" ] || { echo "bench-ab: $m is not in expected.tsv"; status=1; continue; }
  : >"$tmp/before"; : >"$tmp/after"; : >"$tmp/before.cpu"; : >"$tmp/after.cpu"; distinct=""
  for i in $(seq "$runs"); do
    for side in before after; do
      bin=$BEFORE; [ "$side" = after ] && bin=$after
      t0=$(now)
      out=$(/usr/bin/time -f '%U %S' -o "$tmp/cpu" "$bin" check -json -progress 0 -workers "$workers" -config "$suite/$m" "$suite/$spec" || true)
      t1=$(now)
      awk '{printf "%.2f\n", $1+$2}' "$tmp/cpu" >>"$tmp/$side.cpu"
      d=$(echo "$out" | sed -n 's/.*"distinct_states": \([0-9]*\).*/\1/p')
      if [ -z "$d" ] || { [ -n "$distinct" ] && [ "$d" != "$distinct" ]; }; then
        echo "bench-ab: $m: $side run $i found ${d:-no} distinct states (other runs: ${distinct:-none})"; status=1
      fi
      distinct=${distinct:-$d}
      awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b-a}' >>"$tmp/$side"
      echo "bench-ab: $m $side run $i: $(tail -1 "$tmp/$side") s wall, $(tail -1 "$tmp/$side.cpu") s CPU" >&2
    done
  done
  for k in "" .cpu; do
    mb=$(median <"$tmp/before$k"); ma=$(median <"$tmp/after$k")
    printf '%-40s %10s %-4s %s (%s) | %s (%s) | %.3f\n' "$m" "$distinct" "$(echo "${k:-wall}" | tr -d .)" "$mb" "$(paste -sd' ' "$tmp/before$k")" "$ma" "$(paste -sd' ' "$tmp/after$k")" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {print a/b}')"
  done
done
exit $status
