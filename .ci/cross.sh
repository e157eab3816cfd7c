#!/usr/bin/env bash
# make cross: builds the device binary (go build -tags device ./cmd/verimeter:
# the meter and gateway side, without the TLA+ engine) for the hardware meters
# and gateways have, reports binary sizes, and runs the tests of protocol/, plc/,
# meter/ and gateway/ under qemu-user for arm, arm64 and mips (big-endian) so byte-order and
# word-size bugs show.
set -euo pipefail
cd "$(dirname "$0")/.."
./.ci/deps.sh qemu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

targets=("arm 7" "arm64 -" "mips -" "mipsle -" "riscv64 -")
printf '| target | binary | size |\n|---|---|---|\n'
for t in "${targets[@]}"; do
  set -- $t
  arch=$1; goarm=$2
  env=(GOOS=linux GOARCH="$arch" CGO_ENABLED=0)
  [ "$goarm" != "-" ] && env+=(GOARM="$goarm")
  [ "$arch" = mips ] || [ "$arch" = mipsle ] && env+=(GOMIPS=softfloat)
  bin="$out/verimeter-$arch"
  env "${env[@]}" go build -tags device -trimpath -ldflags='-s -w' -o "$bin" ./cmd/verimeter
  size=$(stat -c %s "$bin")
  printf '| linux/%s%s | verimeter (device) | %d KiB |\n' "$arch" "$([ "$goarm" != "-" ] && echo " GOARM=$goarm")" $((size/1024))
done

# The device binary must not link the TLA+ engine or the generator.
if go list -tags device -deps ./cmd/verimeter | grep -E 'verimeter/(tla|statemachine/gen)(/|$)'; then
  echo "cross: the device build links the TLA+ engine or the generator" >&2
  exit 1
fi

pkgs=$(go list ./protocol/... ./plc/... ./meter/... ./gateway/... 2>/dev/null || true)
declare -A qemu=([arm]=qemu-arm [arm64]=qemu-aarch64 [mips]=qemu-mips)
failed=0
for arch in arm arm64 mips; do
  q=${qemu[$arch]}
  if ! command -v "$q" >/dev/null 2>&1; then
    echo "cross: $q not installed and apt unavailable; cannot run $arch tests" >&2
    failed=1; continue
  fi
  for p in $pkgs; do
    env=(GOOS=linux GOARCH="$arch" CGO_ENABLED=0)
    [ "$arch" = arm ] && env+=(GOARM=7)
    [ "$arch" = mips ] && env+=(GOMIPS=softfloat)
    tb="$out/$(echo "$p" | tr / _).$arch.test"
    env "${env[@]}" go test -c -o "$tb" "$p"
    [ -f "$tb" ] || continue   # package without tests
    dir=$(go list -f '{{.Dir}}' "$p")
    if (cd "$dir" && "$q" "$tb" -test.count=1 -test.timeout=15m >"$out/log" 2>&1); then
      echo "cross: ok   linux/$arch $p"
    else
      echo "cross: FAIL linux/$arch $p"; tail -30 "$out/log"; failed=1
    fi
  done
done
exit $failed
