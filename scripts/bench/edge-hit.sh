# Sourced by the edge benchmarks: the tools they need, the user they read,
# and the edge's cached answer saved for the bare hyper baseline to send back
# byte for byte.

# need_tools TOOL...: installs the missing ones from Debian
need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null && continue
    echo "installing $tool (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >&2 && apt-get install -y -qq "$tool" >&2
    else sudo apt-get update -qq >&2 && sudo apt-get install -y -qq "$tool" >&2; fi
  done
}

# wait_ok URL: polls every 50 ms (cold starts are timed by it), for up to a
# minute, until the URL answers 2xx
wait_ok() {
  for _ in $(seq 1200); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done
  echo "no answer from $1" >&2
  return 1
}

# bench_user BASE_URL: signs up the benchmark user there and prints its id
bench_user() {
  local signup='{"email":"bench@example.com","password":"correct horse battery staple","firstName":"John","lastName":"Smith","address":{"streetAddress":"21 2nd Street","city":"New York","state":"NY","postalCode":10021},"phoneNumbers":["212 555-1234","646 555-4567"]}'
  curl -sf "$1/auth/signup" -H 'content-type: application/json' -d "$signup" | sed 's/.*"user":{"id":\([0-9]*\).*/\1/'
}

# save_hit URL DIR: reads URL through the edge twice and saves the second
# answer, which must be a hit, as DIR/head.txt and DIR/body.json
save_hit() {
  curl -sf "$1" >/dev/null
  curl -sf "$1" -D "$2/head.txt" -o "$2/body.json"
  grep -qi '^x-cache: HIT' "$2/head.txt" || { echo "error: the second read of $1 was not a hit" >&2; return 1; }
}
