#!/usr/bin/env bash
# Benchmarks GET /users/{id} on the local stack (embedded store, 100,000 users)
# against a bare axum handler returning a constant JSON body, in the same run
# on the same machine, with wrk. Prints a Markdown report to stdout.
#
#   bash scripts/bench-users.sh            # defaults below
#   USERS=1000000 DURATION=30s ROUNDS=3 bash scripts/bench-users.sh
#   BEFORE=HEAD~3 bash scripts/bench-users.sh   # also that revision's stack,
#                                               # in the same alternation
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/revision.sh
source scripts/bench/revision.sh

USERS=${USERS:-100000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if_needed apt-get update -qq >&2 && sudo_if_needed apt-get install -y -qq wrk >&2
fi

cargo build --release --quiet --bin millions --example bare_axum >&2
before_bin=
[ -z "${BEFORE:-}" ] || before_bin=$(build_revision "$BEFORE")

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

./target/release/millions seed --data-dir "$work/data" --users "$USERS" --ids-out "$work/ids.txt" 2>&2
# Servers on core 0, the load generator on core 1 (when there are two), so
# neither steals the other's CPU and runs are comparable.
pin_server=(); pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0); pin_load=(taskset -c 1); fi
"${pin_server[@]}" ./target/release/millions --no-edge --data-dir "$work/data" --port 18180 2>"$work/stack.log" &
pids+=($!)
"${pin_server[@]}" ./target/release/examples/bare_axum 18181 &
pids+=($!)
ports=(18180 18181)
if [ -n "$before_bin" ]; then
  # Seeded by its own binary: the store's format is that revision's.
  "$before_bin" seed --data-dir "$work/before-data" --users "$USERS" --ids-out "$work/before-ids.txt" 2>&2
  "${pin_server[@]}" "$before_bin" --no-edge --data-dir "$work/before-data" --port 18182 2>"$work/before.log" &
  pids+=($!)
  ports+=(18182)
fi
# ids_for PORT: the ids file of the store the server on PORT reads (the ids
# are random, so each seeding has its own)
ids_for() { if [ "$1" = 18182 ]; then echo "$work/before-ids.txt"; else echo "$work/ids.txt"; fi; }
for port in "${ports[@]}"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/users/$(head -1 "$(ids_for "$port")")" >/dev/null && break; sleep 0.1; done
done

# run NAME PORT: prints "requests/s p50 p99" from wrk's report
run() {
  local out
  out=$(IDS_FILE="$(ids_for "$2")" "${pin_load[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s scripts/bench/random_user.lua "http://127.0.0.1:$2")
  echo "$out" >&2
  if echo "$out" | grep -q "Non-2xx"; then echo "error: $1 answered non-2xx responses" >&2; exit 1; fi
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "$rps $p50 $p99"
}

# Warm the servers up.
for port in "${ports[@]}"; do
  IDS_FILE="$(ids_for "$port")" wrk -t1 -c8 -d3s -s scripts/bench/random_user.lua "http://127.0.0.1:$port" >/dev/null
done
# Alternate the two servers for ROUNDS rounds and keep each one's median
# round, so a burst of noise on the machine does not decide the ratio.
ROUNDS=${ROUNDS:-5}
: >"$work/base"; : >"$work/stack"; : >"$work/before"
for _ in $(seq "$ROUNDS"); do
  run "bare axum" 18181 >>"$work/base"
  run "local stack" 18180 >>"$work/stack"
  [ -z "$before_bin" ] || run "local stack at $BEFORE" 18182 >>"$work/before"
done
median() { sort -n -k1,1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
read -r base_rps base_p50 base_p99 < <(median "$work/base")
read -r stack_rps stack_p50 stack_p99 < <(median "$work/stack")
ratio=$(awk -v a="$stack_rps" -v b="$base_rps" 'BEGIN {printf "%.2f", a / b}')
before_rows=
if [ -n "$before_bin" ]; then
  read -r before_rps before_p50 before_p99 < <(median "$work/before")
  before_rows="| local stack at \`$BEFORE\` ($(git rev-parse --short "$BEFORE")), same reads | $before_rps | $before_p50 | $before_p99 |

Ratio at \`$BEFORE\`, its stack / bare axum: **$(awk -v a="$before_rps" -v b="$base_rps" 'BEGIN {printf "%.2f", a / b}')**;
the working tree / \`$BEFORE\`: **$(awk -v a="$stack_rps" -v b="$before_rps" 'BEGIN {printf "%.3f", a / b}')**.
Per round (requests/s, in the order run): bare $(awk '{printf " %s", $1}' "$work/base");
stack $(awk '{printf " %s", $1}' "$work/stack"); at \`$BEFORE\` $(awk '{printf " %s", $1}' "$work/before")."
fi

cat <<REPORT
| server | requests/s | p50 | p99 |
|---|---:|---:|---:|
| bare axum, constant JSON body (baseline) | $base_rps | $base_p50 | $base_p99 |
| local stack, \`GET /users/{id}\` over $USERS stored users | $stack_rps | $stack_p50 | $stack_p99 |
$before_rows

Throughput ratio, local stack / bare axum: **$ratio** (target: at least 0.5).

Machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo).
wrk: $THREADS thread(s), $CONNECTIONS connections, $DURATION per run, ids drawn uniformly at random;
the median of $ROUNDS alternating runs per server; servers pinned to core 0 and wrk to core 1.
REPORT
