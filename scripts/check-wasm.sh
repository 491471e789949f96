#!/usr/bin/env bash
# Lints everything that runs as WebAssembly, for the targets it runs on, with
# clippy and `-D warnings`:
#   - the platform-free crates (the core and the edge policy) for
#     wasm32-unknown-unknown (Cloudflare Workers), on their own, so a
#     feature they need but only the native workspace turns on is caught.
#     They hold no target-specific code, so a second lint for wasm32-wasip2
#     would check the same lines again; the Spin build compiles them for it;
#   - the Worker (edge/worker) and the Spin component (edge/spin), which have
#     their own manifests outside the native workspace.
# scripts/build-edge.sh then compiles the two edges, and these crates with
# them, for real. Uses Debian's rustc and clippy (scripts/install-toolchain.sh),
# which have these targets, and checks std from source for them: one target
# folder for every run, so std is checked once per target.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$PWD/target/wasm-check
mkdir -p "$(rustc --target wasm32-unknown-unknown --print target-libdir)"

lint() {
  local target=$1
  shift
  echo "clippy for $target: $*"
  cargo clippy --quiet --target "$target" -Zbuild-std=std,panic_abort "$@" -- -D warnings
}

lint wasm32-unknown-unknown -p millions-core -p millions-edge-policy
lint wasm32-unknown-unknown --manifest-path edge/worker/Cargo.toml
# The same flags build-edge.sh gives the Spin build (WASI's libc).
export RUSTFLAGS="-L native=/usr/lib/wasm32-wasi"
lint wasm32-wasip2 --manifest-path edge/spin/Cargo.toml
