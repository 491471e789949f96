#!/usr/bin/env bash
# The edge's hit rate while other profiles are written: the same Zipf reads
# (s = 0.99) through the front door (the local edge before one API), open
# model at a constant rate (examples/loadgen.rs), once with no writes and
# once with 5 % of the requests updating profiles nobody in the run reads.
# A write purges its own profile's copy; it must cost no other profile its
# copy or its fill in flight, so the two hit rates should differ by little
# more than run-to-run noise. The two mixes alternate for ROUNDS rounds after
# a warm-up; the report gives each round and each mix's median.
#
#   bash scripts/bench-edge-writes.sh
#   BEFORE=<revision> bash scripts/bench-edge-writes.sh   # also that revision's
#                                                          # stack, same rounds
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
# The first SESSIONS users are signed in and only written; the rest only read.
SESSIONS=${SESSIONS:-10000}
RATE=${RATE:-4000}
# A run as long as a profile's lifetime in the cache (max-age=30): each run
# sees one whole wave of expiries, so no mix is measured between two waves.
SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}

source scripts/bench/common.sh
source scripts/bench/revision.sh
build_or_reuse --bin millions --example loadgen
before_bin=
[ -z "${BEFORE:-}" ] || before_bin=$(build_revision "$BEFORE")

declare -A port=([now]=18600 [before]=18601)
# stack NAME BINARY: seeds a data folder with BINARY (the store's format is
# its revision's) and starts its whole local stack on ${port[NAME]}.
stack() {
  "$2" seed --data-dir "$work/data-$1" --users "$USERS" --ids-out "$work/ids-$1.txt" \
    --sessions "$SESSIONS" --sessions-out "$work/sessions-$1.txt" 2>/dev/null
  # Reads go to the users nobody writes.
  tail -n +"$((SESSIONS + 1))" "$work/ids-$1.txt" >"$work/reads-$1.txt"
  "${pin_server[@]}" "$2" --data-dir "$work/data-$1" --port "${port[$1]}" 2>"$work/stack-$1.log" &
  pids+=($!)
  wait_for "http://127.0.0.1:${port[$1]}/health"
}

# load NAME UPDATES SECONDS: one run against stack NAME, its JSON report tagged.
load() {
  local out
  out=$("${pin_load[@]}" "$bin/examples/loadgen" --url "http://127.0.0.1:${port[$1]}" --ids "$work/reads-$1.txt" \
    --sessions "$work/sessions-$1.txt" --rate "$RATE" --seconds "$3" --connections "$CONNECTIONS" --updates "$2")
  echo "{\"stack\": \"$1\", \"updates\": $2, \"report\": $out}" >>"$work/runs.jsonl"
  echo "$1 with updates $2: $out" >&2
}

stacks=(now)
stack now "$bin/millions"
if [ -n "$before_bin" ]; then
  stacks+=(before)
  stack before "$before_bin"
fi
# Warm up for one lifetime too, so every measured run starts from a full cache.
for name in "${stacks[@]}"; do load "$name" 0 30 >/dev/null; done
: >"$work/runs.jsonl"
for _ in $(seq "$ROUNDS"); do
  for name in "${stacks[@]}"; do
    load "$name" 0 "$SECONDS_PER_RUN"
    load "$name" 0.05 "$SECONDS_PER_RUN"
  done
done

python3 - "$work/runs.jsonl" "${BEFORE:-}" <<'EOF'
import json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1])]
before = sys.argv[2]
failed = sum(run["report"]["errors"] for run in runs)
names = {"now": "working tree", "before": f"at `{before}`"}
print("| stack | writes to other profiles | edge hit rate, per round | median | p99 (ms), median |")
print("|---|---:|---|---:|---:|")
medians = {}
for stack in dict.fromkeys(run["stack"] for run in runs):
    for updates in (0, 0.05):
        mine = [run["report"] for run in runs if run["stack"] == stack and run["updates"] == updates]
        rates = [100 * r["hit_rate"] for r in mine]
        medians[(stack, updates)] = statistics.median(rates)
        p99 = statistics.median(r["p99_us"] for r in mine) / 1000
        print(f'| {names[stack]} | {100 * updates:.0f} % | {" / ".join(f"{rate:.1f} %" for rate in rates)} '
              f'| **{medians[(stack, updates)]:.1f} %** | {p99:.2f} |')
print()
for stack in dict.fromkeys(run["stack"] for run in runs):
    drop = medians[(stack, 0)] - medians[(stack, 0.05)]
    print(f"{names[stack]}: 5 % writes to other profiles cost the hit rate **{drop:.1f} points**.")
sys.exit(1 if failed else 0)
EOF
