# Sourced by the instruction counters: a server started under valgrind's
# callgrind, and its user-space instructions per request over a wrk run.
# A count does not move with the machine's load as throughput does, so it
# shows what a change on a hot path costs or saves.

# under_callgrind NAME COMMAND...: starts COMMAND under callgrind in the
# background, its profile in $work/NAME.out.*, its pid in $work/NAME.pid
under_callgrind() {
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.out.%p" "$@" >/dev/null 2>"$work/$name.log" &
  pids+=($!)
  echo $! >"$work/$name.pid"
}

# instructions_per_request NAME URL: after a 3 s warm-up, the instructions
# the server NAME executed per request of a 10 s wrk run against URL
instructions_per_request() {
  local name=$1 url=$2 pid requests total
  pid=$(cat "$work/$name.pid")
  wrk -t1 -c4 -d3s "$url" >/dev/null
  callgrind_control --zero "$pid" >/dev/null 2>&1
  requests=$(wrk -t1 -c4 -d10s "$url" | awk '/requests in/ {print $1}')
  callgrind_control --dump "$pid" >/dev/null 2>&1
  sleep 1
  # awk reads the files itself: `cat | awk '...; exit'` would end cat with
  # SIGPIPE, which pipefail turns into a failed assignment.
  total=$(awk '/^(summary|totals):/ {print $2; exit}' "$work/$name".out.*.*)
  echo "$((total / requests))"
}
