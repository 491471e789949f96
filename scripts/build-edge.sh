#!/usr/bin/env bash
# Builds the wasm edges with Debian's rustc (scripts/install-toolchain.sh):
#   worker: edge/worker -> edge/worker/build/ (worker-build: wasm-bindgen, wasm-opt, esbuild)
#   spin:   edge/spin   -> edge/spin/target/wasm32-wasip2/release/millions_edge_spin.wasm
# Usage: bash scripts/build-edge.sh [worker|spin]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/.tools
npm_bin=$tools/npm/node_modules/.bin

# Debian's cargo and rustc first; std is built from source for the wasm targets.
export PATH="/usr/bin:$tools/bin:$PATH" RUSTC_BOOTSTRAP=1
mkdir -p "$(rustc --target wasm32-unknown-unknown --print target-libdir)"

build_worker() {
  echo "building the Worker (edge/worker)"
  (
    cd edge/worker
    # worker-build would download these; point it at the installed ones.
    export WASM_BINDGEN_BIN="$tools/bin/wasm-bindgen"
    export WASM_OPT_BIN="$npm_bin/wasm-opt"
    export ESBUILD_BIN="$npm_bin/esbuild"
    export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    worker-build --release
  )
  ls -l edge/worker/build/*.wasm
  echo "gzip: $(gzip -9 -c edge/worker/build/index_bg.wasm | wc -c) bytes"
}

build_spin() {
  echo "building the Spin component (edge/spin)"
  (
    cd edge/spin
    RUSTFLAGS="-L native=/usr/lib/wasm32-wasi" \
      cargo build --quiet --release --target wasm32-wasip2 -Zbuild-std=std,panic_abort
  )
  ls -l edge/spin/target/wasm32-wasip2/release/millions_edge_spin.wasm
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(worker spin)
for target in "${targets[@]}"; do
  case $target in
    worker) build_worker ;;
    spin) build_spin ;;
    *) echo "unknown edge: $target (worker or spin)" >&2; exit 2 ;;
  esac
done
