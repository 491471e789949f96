#!/usr/bin/env bash
# Builds the platform-free crates (the core and the edge policy) for the
# edge's WebAssembly targets: wasm32-unknown-unknown (Cloudflare Workers) and
# wasm32-wasip2 (Spin). Uses Debian's rustc (scripts/install-toolchain.sh),
# which has these targets, and builds std from source for them.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/wasm
mkdir -p "$(rustc --target wasm32-unknown-unknown --print target-libdir)"
for target in wasm32-unknown-unknown wasm32-wasip2; do
  echo "building millions-core and millions-edge-policy for $target"
  cargo build --quiet --release --target "$target" -p millions-core -p millions-edge-policy \
    -Zbuild-std=std,panic_abort
done
