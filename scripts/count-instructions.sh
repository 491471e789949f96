#!/usr/bin/env bash
# User-space instructions per request, counted by valgrind's callgrind over
# the requests wrk sends in 10 s, for the two hot paths, each beside a
# baseline that puts a like answer on the wire:
#   - a profile read from the API (the local stack with --no-edge, so the
#     store answers every read), against bare axum answering a constant
#     user (examples/bare_axum.rs);
#   - a cached read answered by the local edge, against bare hyper putting
#     the edge's own hit on the wire byte for byte (examples/bare_bytes.rs).
# With BEFORE=<git revision>, that revision's stack is counted too, so a
# change on a hot path is measured before and after in one run.
#
# Throughput on a shared machine moves by 10-20 % from run to run; a count
# of executed user-space instructions does not, so it shows what a change
# costs or saves. It leaves out the kernel's share (the loopback reads and
# writes, most of a request's CPU time), which every server pays alike.
#   bash scripts/count-instructions.sh
#   BEFORE=HEAD~1 bash scripts/count-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/edge-hit.sh
source scripts/bench/edge-hit.sh
# shellcheck source=bench/callgrind.sh
source scripts/bench/callgrind.sh
# shellcheck source=bench/revision.sh
source scripts/bench/revision.sh

need_tools valgrind wrk
cargo build --release --quiet --bin millions --example bare_bytes --example bare_axum >&2
stacks=(now)
declare -A binary=([now]=./target/release/millions)
if [ -n "${BEFORE:-}" ]; then
  stacks+=(before)
  binary[before]=$(build_revision "$BEFORE")
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# stop NAME: ends the server NAME, so the next one has the machine alone
stop() { kill "$(cat "$work/$1.pid")"; wait "$(cat "$work/$1.pid")" 2>/dev/null || true; }

declare -A read hit
port=18480
for stack in "${stacks[@]}"; do
  under_callgrind "api-$stack" "${binary[$stack]}" --no-edge --data-dir "$work/api-data-$stack" --port $port
  wait_ok "http://127.0.0.1:$port/health"
  id=$(bench_user "http://127.0.0.1:$port")
  read[$stack]=$(instructions_per_request "api-$stack" "http://127.0.0.1:$port/users/$id")
  stop "api-$stack"

  under_callgrind "edge-$stack" "${binary[$stack]}" --data-dir "$work/edge-data-$stack" --port $((port + 1)) --api-port $((port + 2))
  wait_ok "http://127.0.0.1:$((port + 1))/health"
  id=$(bench_user "http://127.0.0.1:$((port + 1))")
  mkdir -p "$work/hit-$stack"
  save_hit "http://127.0.0.1:$((port + 1))/users/$id" "$work/hit-$stack"
  hit[$stack]=$(instructions_per_request "edge-$stack" "http://127.0.0.1:$((port + 1))/users/$id")
  stop "edge-$stack"
  port=$((port + 3))
done

under_callgrind bare-axum ./target/release/examples/bare_axum $port
wait_ok "http://127.0.0.1:$port/users/1"
bare_axum=$(instructions_per_request bare-axum "http://127.0.0.1:$port/users/1")
stop bare-axum
under_callgrind bare-hyper ./target/release/examples/bare_bytes $((port + 1)) "$work/hit-now/body.json" "$work/hit-now/head.txt"
wait_ok "http://127.0.0.1:$((port + 1))/users/1"
bare_hyper=$(instructions_per_request bare-hyper "http://127.0.0.1:$((port + 1))/users/1")

times() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
echo "| server | instructions per request (user space) | / its baseline |"
echo "|---|---:|---:|"
echo "| bare axum, constant JSON user (baseline) | $bare_axum | |"
echo "| API, profile read from the store | ${read[now]} | $(times "${read[now]}" "$bare_axum") |"
[ -z "${BEFORE:-}" ] || echo "| API at \`$BEFORE\`, profile read from the store | ${read[before]} | $(times "${read[before]}" "$bare_axum") |"
echo "| bare hyper, the edge's hit byte for byte (baseline) | $bare_hyper | |"
echo "| local edge, cached profile read (HIT) | ${hit[now]} | $(times "${hit[now]}" "$bare_hyper") |"
[ -z "${BEFORE:-}" ] || echo "| local edge at \`$BEFORE\`, cached profile read (HIT) | ${hit[before]} | $(times "${hit[before]}" "$bare_hyper") |"
if [ -n "${BEFORE:-}" ]; then
  echo
  echo "Working tree / \`$BEFORE\` ($(git rev-parse --short "$BEFORE")): profile read $(times "${read[now]}" "${read[before]}")x the instructions, cached read $(times "${hit[now]}" "${hit[before]}")x."
fi
echo
echo "Machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo); valgrind $(valgrind --version | sed 's/valgrind-//')."
