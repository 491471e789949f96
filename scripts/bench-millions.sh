#!/usr/bin/env bash
# The million-user load test: YCSB workload B (95 % profile reads, 5 %
# updates by their owners) over user ids drawn from a Zipf distribution
# (s = 0.99), through the front door (the local edge in front of the API),
# open-model at constant arrival rates with latencies from each request's
# intended start (examples/loadgen.rs). For each store size it seeds the
# users (and sessions for the hottest ones), measures the same rates, a
# read-only run for the celebrity's origin traffic, the stack's peak
# resident memory and the store's bytes on disk; a bare axum handler,
# measured in the same run at the same rates, is the baseline. Each run is
# repeated ROUNDS times and the round with the median p99 is reported.
# Prints a Markdown report; fails if any request failed.
#
#   bash scripts/bench-millions.sh                        # 10,000 and 1,000,000 users
#   SIZES=10000 RATES=300 SECONDS_PER_RUN=2 ROUNDS=1 bash scripts/bench-millions.sh --from-test-build
#                                                         # CI's small run, on the test build
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10000 1000000"}
# The first rate is the comparison point at every size; the last is near
# saturation on a 2-core machine with the generator on its own core (the
# stack, pinned to the other, took about 40,000 req/s with a warm edge and
# fell behind at 30,000 with a cold one).
RATES=${RATES:-"4000 20000"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
SESSIONS=${SESSIONS:-10000}
# Each measured run is repeated; the report keeps the round with the median p99.
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}

source scripts/bench/common.sh
if [ "${1:-}" = --from-test-build ]; then build_or_reuse --from-test-build; else build_or_reuse --bin millions --example loadgen --example bare_axum; fi

# load NAME URL IDS SESSIONS RATE UPDATES: one run, its JSON report tagged.
load() {
  local name=$1 url=$2 ids=$3 sessions=$4 rate=$5 updates=$6 out
  out=$("${pin_load[@]}" "$bin/examples/loadgen" --url "$url" --ids "$ids" --sessions "$sessions" \
    --rate "$rate" --seconds "$SECONDS_PER_RUN" --connections "$CONNECTIONS" --updates "$updates")
  echo "{\"run\": \"$name\", \"report\": $out}" >>"$work/runs.jsonl"
  echo "$name at $rate/s: $out" >&2
}

sizes=($SIZES)
largest=${sizes[-1]}
port=18500

# The baseline answers every id with one constant body: any ids file will do.
seq 1 1000 >"$work/baseline-ids.txt"
: >"$work/baseline-sessions.txt"
"${pin_server[@]}" "$bin/examples/bare_axum" $port &
pids+=($!)
wait_for "http://127.0.0.1:$port/users/1"
for rate in $RATES; do
  for _ in $(seq "$ROUNDS"); do
    load baseline "http://127.0.0.1:$port" "$work/baseline-ids.txt" "$work/baseline-sessions.txt" "$rate" 0.05
  done
done
kill "${pids[-1]}"

for users in "${sizes[@]}"; do
  data="$work/data-$users"
  sessions=$((users < SESSIONS ? users : SESSIONS))
  start=$(date +%s.%N)
  "$bin/millions" seed --data-dir "$data" --users "$users" --ids-out "$work/ids-$users.txt" \
    --sessions "$sessions" --sessions-out "$work/sessions-$users.txt" 2>/dev/null
  seeded=$(awk -v start="$start" -v end="$(date +%s.%N)" 'BEGIN { print end - start }')
  disk=$(du -sb "$data" | cut -f1)
  port=$((port + 1))
  "${pin_server[@]}" "$bin/millions" --data-dir "$data" --port $port 2>"$work/stack-$users.log" &
  stack=$!
  pids+=($stack)
  wait_for "http://127.0.0.1:$port/health"
  # Warm the edge's cache as traffic would have before the measurement.
  SECONDS_PER_RUN=3 load "warm-$users" "http://127.0.0.1:$port" "$work/ids-$users.txt" "$work/sessions-$users.txt" 1000 0.05
  for rate in $RATES; do
    for _ in $(seq "$ROUNDS"); do
      load "users-$users" "http://127.0.0.1:$port" "$work/ids-$users.txt" "$work/sessions-$users.txt" "$rate" 0.05
    done
  done
  if [ "$users" = "$largest" ]; then
    # Reads alone: what thousands of readers of one hot profile cost the origin.
    load "reads-only-$users" "http://127.0.0.1:$port" "$work/ids-$users.txt" "$work/sessions-$users.txt" "${RATES%% *}" 0
  fi
  rss=$(awk '/VmHWM/ {print $2 * 1024}' "/proc/$stack/status")
  echo "{\"size\": $users, \"seed_seconds\": $seeded, \"disk_bytes\": $disk, \"peak_rss_bytes\": $rss}" >>"$work/sizes.jsonl"
  stop_api
done

python3 - "$work/runs.jsonl" "$work/sizes.jsonl" <<'EOF'
import json, sys

rounds = {}
for run in map(json.loads, open(sys.argv[1])):
    rounds.setdefault((run["run"], run["report"]["rate"]), []).append(run)
# The round with the median p99 stands for its configuration (in run order).
runs = []
for group in rounds.values():
    group.sort(key=lambda run: run["report"]["p99_us"])
    runs.append(group[len(group) // 2])
failed = sum(run["report"]["errors"] for group in rounds.values() for run in group)
sizes = {s["size"]: s for s in map(json.loads, open(sys.argv[2]))}

print("| run | users | rate (req/s) | achieved | p50 (ms) | p90 | p99 | p99.9 | errors | edge hit rate | hottest id from origin (/s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for run in runs:
    name, r = run["run"], run["report"]
    if name.startswith("warm"):
        continue
    users = "" if name == "baseline" else f'{r["users"]:,}'
    hit = "" if name == "baseline" else f'{100 * r["hit_rate"]:.1f} %'
    origin = "" if name == "baseline" else f'{r["hottest_origin_per_sec"]:.2f}'
    print(f'| {name.rsplit("-", 1)[0] if name != "baseline" else "bare handler"} | {users} | {r["rate"]:,.0f} | {r["achieved"]:,.0f} '
          f'| {r["p50_us"] / 1000:.2f} | {r["p90_us"] / 1000:.2f} | {r["p99_us"] / 1000:.2f} | {r["p999_us"] / 1000:.2f} '
          f'| {r["errors"]} | {hit} | {origin} |')

print()
print("| users | seeding (s) | disk | disk per million users | peak resident memory |")
print("|---:|---:|---:|---:|---:|")
for users, s in sorted(sizes.items()):
    per_million = s["disk_bytes"] * 1_000_000 / users
    print(f'| {users:,} | {s["seed_seconds"]:.1f} | {s["disk_bytes"] / 2**20:.0f} MiB | {per_million / 2**20:.0f} MiB '
          f'| {s["peak_rss_bytes"] / 2**20:.0f} MiB |')

by = {(run["run"], run["report"]["rate"]): run["report"] for run in runs}
ordered = sorted(sizes)
if len(ordered) > 1:
    small, large = ordered[0], ordered[-1]
    print()
    for (name, rate), r in sorted(by.items()):
        if name == f"users-{large}" and (f"users-{small}", rate) in by:
            ratio = r["p99_us"] / by[(f"users-{small}", rate)]["p99_us"]
            print(f"p99 at {large:,} users over p99 at {small:,}, both at {rate:,.0f} req/s: **{ratio:.2f}x**")
sys.exit(1 if failed else 0)
EOF
