#!/usr/bin/env bash
# Installs what the tests need beyond a Rust toolchain, on Debian/Ubuntu:
#   - Python 3 with venv, and the moto AWS emulator (pinned) in ./.venv
#   - Debian's rustc with the wasm32 targets (rustup cannot fetch targets
#     offline), used by scripts/check-wasm.sh
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5   # keep in step with infra/testkit/src/moto.rs

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! python3 -m venv --help >/dev/null 2>&1; then
  echo "installing python3-venv (Debian package)"
  as_root apt-get update -qq
  as_root apt-get install -y -qq python3 python3-venv
fi

if [ ! -x .venv/bin/moto_server ] || ! .venv/bin/pip show moto 2>/dev/null | grep -x "Version: $MOTO_VERSION" >/dev/null; then
  echo "installing moto[server]==$MOTO_VERSION into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
if ! /usr/bin/rustc --print target-list 2>/dev/null | grep -x wasm32-wasip2 >/dev/null; then
  echo "installing Debian's rustc for wasm32 (rustc-web)"
  as_root apt-get update -qq
  as_root apt-get install -y -qq rustc-web cargo-web rust-web-src libstd-rust-web-dev lld-22 wasi-libc
fi

echo "toolchain ready: moto $MOTO_VERSION in .venv"
