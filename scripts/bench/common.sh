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
