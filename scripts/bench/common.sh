# Sourced by the benchmark scripts: a scratch folder removed at exit with
# every server the script started, CPU pinning, and waiting for a server.

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Servers on core 0, the load generator on core 1 (when there are two), so
# neither steals the other's CPU and runs are comparable.
pin_server=()
pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0)
  pin_load=(taskset -c 1)
fi

# wait_for URL: until it answers 2xx (10 s at most).
wait_for() {
  for _ in $(seq 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "error: nothing answered $1" >&2
  exit 1
}

# build_or_reuse [--from-test-build] TARGET...: sets $bin to the release
# build of the cargo targets given (`--bin millions --example loadgen`), or
# with --from-test-build to the debug build `cargo test --workspace
# --no-run` has already made (CI's small runs).
build_or_reuse() {
  if [ "${1:-}" = --from-test-build ]; then
    bin=target/debug
  else
    cargo build --release --quiet "$@" >&2
    bin=target/release
  fi
}

# start_api DATA PORT LOG: the API alone (`--no-edge`: writes pass through
# the edge untouched anyway) on the data folder DATA, pinned, logging to LOG;
# returns once it answers. stop_api stops it.
start_api() {
  "${pin_server[@]}" "$bin/millions" --no-edge --data-dir "$1" --port "$2" 2>"$3" &
  stack=$!
  pids+=($stack)
  wait_for "http://127.0.0.1:$2/health"
}
stop_api() {
  kill "$stack"
  wait "$stack" 2>/dev/null || true
}
