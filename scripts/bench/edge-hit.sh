# Sourced by the edge benchmarks: the user they read, and the edge's cached
# answer saved for the bare hyper baseline to send back byte for byte.

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
