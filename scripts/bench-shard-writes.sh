#!/usr/bin/env bash
# Durable write throughput of the embedded tier with 1 shard against 4: the
# same stack, the same users and the same load (profile updates by their
# owners, every one committed with fsync before its answer), once on a data
# folder of 1 shard and once on 4. The generator offers more than either
# can take, so what it achieves is the throughput. Prints a Markdown table.
#
#   bash scripts/bench-shard-writes.sh
#   USERS=100000 WRITERS=10000 SECONDS_PER_RUN=10 bash scripts/bench-shard-writes.sh
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
WRITERS=${WRITERS:-10000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CONNECTIONS=${CONNECTIONS:-64}
OFFERED=${OFFERED:-20000}
SHARD_COUNTS=${SHARD_COUNTS:-"1 4"}

source scripts/bench/common.sh
build_or_reuse --bin millions --example loadgen

# Latencies are left out: past saturation they measure the backlog.
echo "| shards | offered (writes/s) | achieved (writes/s) | errors |"
echo "|---:|---:|---:|---:|"
port=18600
for shards in $SHARD_COUNTS; do
  data="$work/data-$shards"
  "$bin/millions" seed --data-dir "$data" --shards "$shards" --users "$USERS" \
    --ids-out "$work/ids-$shards.txt" --sessions "$WRITERS" --sessions-out "$work/sessions-$shards.txt" 2>/dev/null
  port=$((port + 1))
  start_api "$data" $port "$work/stack-$shards.log"
  # Updates only, spread evenly over the signed-in users (Zipf with s = 0).
  out=$("${pin_load[@]}" "$bin/examples/loadgen" --url "http://127.0.0.1:$port" \
    --ids "$work/ids-$shards.txt" --sessions "$work/sessions-$shards.txt" \
    --rate "$OFFERED" --seconds "$SECONDS_PER_RUN" --connections "$CONNECTIONS" --updates 1 --zipf 0)
  echo "$shards shards: $out" >&2
  python3 - "$shards" "$out" <<'EOF'
import json, sys
r = json.loads(sys.argv[2])
rate, achieved = r["rate"], r["achieved"]
print(f"| {sys.argv[1]} | {rate:,.0f} | {achieved:,.0f} | {r['errors']} |")
EOF
  stop_api
done
