#!/usr/bin/env bash
# The write-hot counter: likes of one profile per second with its count in
# K = 1 part (every like an update of one record, on one shard) against
# K = 16 parts (spread over the shards). The same stack, the same 4 shards,
# the same signed-in likers, each liking once; every like committed with
# fsync before its answer. The generator offers more than either can take,
# so what it achieves is the throughput. Prints a Markdown table.
#
#   bash scripts/bench-hot-counter.sh
#   LIKERS=60000 SECONDS_PER_RUN=10 bash scripts/bench-hot-counter.sh
#   LIKERS=2000 SECONDS_PER_RUN=1 OFFERED=1000 bash scripts/bench-hot-counter.sh --from-test-build
#                                                   # CI's small run, on the test build
set -euo pipefail
cd "$(dirname "$0")/.."

# More likers than a run can take, so each like is a new one.
LIKERS=${LIKERS:-60000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CONNECTIONS=${CONNECTIONS:-64}
OFFERED=${OFFERED:-20000}
PARTS=${PARTS:-"1 16"}
SHARDS=${SHARDS:-4}

source scripts/bench/common.sh
if [ "${1:-}" = --from-test-build ]; then build_or_reuse --from-test-build; else build_or_reuse --bin millions --example loadgen; fi

echo "| parts (K) | shards | offered (likes/s) | achieved (likes/s) | errors | count after |"
echo "|---:|---:|---:|---:|---:|---:|"
port=18700
for parts in $PARTS; do
  data="$work/data-$parts"
  "$bin/millions" seed --data-dir "$data" --shards "$SHARDS" --counter-parts "$parts" \
    --users "$LIKERS" --ids-out "$work/ids-$parts.txt" \
    --sessions "$LIKERS" --sessions-out "$work/sessions-$parts.txt" 2>/dev/null
  star=$(head -1 "$work/ids-$parts.txt")
  port=$((port + 1))
  start_api "$data" $port "$work/stack-$parts.log"
  out=$("${pin_load[@]}" "$bin/examples/loadgen" --url "http://127.0.0.1:$port" \
    --ids "$work/ids-$parts.txt" --sessions "$work/sessions-$parts.txt" \
    --rate "$OFFERED" --seconds "$SECONDS_PER_RUN" --connections "$CONNECTIONS" \
    --updates 1 --like "$star")
  count=$(curl -sf "http://127.0.0.1:$port/users/$star/likes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["likes"])')
  echo "K = $parts: $out" >&2
  python3 - "$parts" "$SHARDS" "$out" "$count" <<'PY'
import json, sys
parts, shards, out, count = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
liked = out["statuses"].get("201", 0)
# Every like answered 201 is in the count, and nothing else is.
assert count == liked, f"count {count} but {liked} likes answered 201"
print(f"| {parts} | {shards} | {out['rate']:,.0f} | {out['achieved']:,.0f} | {out['errors']} | {count:,} |")
PY
  stop_api
done
