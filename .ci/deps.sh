#!/usr/bin/env bash
# Installs what the tests need beyond Go, from Debian, when it is missing:
# java (TLC differential tests), openssl and curl (PKI, TLS and signature
# interop tests) and PostgreSQL (the head-end's scale-out store).
# Where apt is unavailable it prints why and goes on; the tests that need a
# missing tool then fail with a message naming it.
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/time ] || need+=(time)
for extra in "$@"; do
  case "$extra" in
    qemu) command -v qemu-arm >/dev/null 2>&1 || need+=(qemu-user) ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: apt-get unavailable; cannot install: ${need[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=sudo
echo "deps: installing ${need[*]}" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
