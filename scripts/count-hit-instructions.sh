#!/usr/bin/env bash
# Instructions per cached read: the local edge answering a hit, against bare
# hyper putting the same response on the wire (examples/bare_bytes.rs), each
# counted by valgrind's callgrind over the requests wrk sends in 10 s.
#
# Throughput on a shared machine moves by 10-20 % from run to run; a count
# of executed user-space instructions does not, so it shows what a change to
# the hit path saves. It leaves out the kernel's share (the loopback reads
# and writes, most of a hit's CPU time), which both servers pay alike.
#   bash scripts/count-hit-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/edge-hit.sh
source scripts/bench/edge-hit.sh

need_tools valgrind wrk
cargo build --release --quiet --bin millions --example bare_bytes >&2

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# count NAME PORT PATH: instructions per request of the server under
# callgrind, counted from after a warm-up to the end of a 10 s wrk run
count() {
  local name=$1 port=$2 path=$3 pid requests total
  pid=$(cat "$work/$name.pid")
  wrk -t1 -c4 -d3s "http://127.0.0.1:$port$path" >/dev/null
  callgrind_control --zero "$pid" >/dev/null 2>&1
  requests=$(wrk -t1 -c4 -d10s "http://127.0.0.1:$port$path" | awk '/requests in/ {print $1}')
  callgrind_control --dump "$pid" >/dev/null 2>&1
  sleep 1
  total=$(cat "$work/$name".out.*.* | awk '/^(summary|totals):/ {print $2; exit}')
  echo "$((total / requests))"
}

valgrind --tool=callgrind --callgrind-out-file="$work/edge.out.%p" \
  ./target/release/millions --data-dir "$work/data" --port 18480 --api-port 18481 >/dev/null 2>"$work/edge.log" &
pids+=($!)
echo $! >"$work/edge.pid"
wait_ok http://127.0.0.1:18480/health
id=$(bench_user http://127.0.0.1:18480)
save_hit "http://127.0.0.1:18480/users/$id" "$work"
edge=$(count edge 18480 "/users/$id")

valgrind --tool=callgrind --callgrind-out-file="$work/bare.out.%p" \
  ./target/release/examples/bare_bytes 18482 "$work/body.json" "$work/head.txt" >/dev/null 2>"$work/bare.log" &
pids+=($!)
echo $! >"$work/bare.pid"
wait_ok "http://127.0.0.1:18482/users/$id"
bare=$(count bare 18482 "/users/$id")

cat <<REPORT
| server | instructions per request (user space) |
|---|---:|
| bare hyper, the edge's hit byte for byte (baseline) | $bare |
| local edge, cached profile read (HIT) | $edge |

Edge / bare hyper: $(awk -v a="$edge" -v b="$bare" 'BEGIN {printf "%.2f", a / b}') times the instructions.
REPORT
