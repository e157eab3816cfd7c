#!/usr/bin/env bash
# Installs what the tests need beyond Go, from Debian, when it is missing:
# java (TLC differential tests), openssl and curl (PKI, TLS and signature
# interop tests), PostgreSQL (the head-end's scale-out store) and
# Prometheus's promtool (it lints the head-end's and gateway's metrics),
# Chromium and the NSS tools (the head-end's operator console is driven in a
# headless Chromium that trusts the root CA through an NSS db); and,
# from npm, cose-js (a second COSE implementation our signatures are checked
# against) into $VERIMETER_NODE_DIR (default ~/.cache/verimeter/node).
# The tests never install anything: they look for the tool and fail with a
# message naming it and this script (skipping only where neither apt nor npm
# could provide it). Where apt or npm is unavailable this script prints why
# and goes on.
set -euo pipefail

# cose-js, pinned. Needs node and npm (Debian's nodejs and npm).
cose_js() {
  local dir=${VERIMETER_NODE_DIR:-$HOME/.cache/verimeter/node}
  [ -f "$dir/node_modules/cose-js/package.json" ] && return 0
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "deps: node or npm unavailable; cannot install cose-js (its interop test skips)" >&2
    return 0
  fi
  echo "deps: installing cose-js@0.9.0 into $dir" >&2
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" cose-js@0.9.0 >/dev/null ||
    echo "deps: npm install cose-js failed; its interop test will fail naming it" >&2
}
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/time ] || need+=(time)
command -v promtool >/dev/null 2>&1 || need+=(prometheus) # promtool checks the /metrics expositions
command -v chromium >/dev/null 2>&1 || need+=(chromium)        # the operator console's browser test
command -v pk12util >/dev/null 2>&1 || need+=(libnss3-tools)   # its NSS db (certutil, pk12util)
for extra in "$@"; do
  case "$extra" in
    qemu) command -v qemu-arm >/dev/null 2>&1 || need+=(qemu-user) ;;
  esac
done
[ ${#need[@]} -eq 0 ] && { cose_js; exit 0; }
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: apt-get unavailable; cannot install: ${need[*]}" >&2
  cose_js
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=sudo
echo "deps: installing ${need[*]}" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
cose_js
