#!/usr/bin/env bash
# Runs the cache conformance scenarios (scripts/cache_conformance.py) through
# the local edge (`millions edge --origin`), nginx and Varnish, each set up as
# a caching reverse proxy in front of the same scripted origin, and prints a
# Markdown table; it fails if the local edge misses any scenario (so CI runs
# it as a conformance test). Needs the Debian packages nginx-light and varnish (installed
# here if missing, when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null || ! command -v varnishd >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -q nginx-light varnish >/dev/null
    else
        echo "install nginx-light and varnish first" >&2
        exit 1
    fi
fi
# The binary the test suite runs: `cargo test` builds it with the
# dev-dependencies' features, which a plain `cargo build` would drop and
# then compile a second copy of much of the graph.
cargo test --quiet --workspace --no-run
BIN=target/debug/millions

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ORIGIN_PORT=$(free_port)
EDGE_PORT=$(free_port)
NGINX_PORT=$(free_port)
VARNISH_PORT=$(free_port)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    rm -rf "$WORK"
}
trap cleanup EXIT

# nginx as a cache that follows the origin's headers: no proxy_cache_valid
# (so only Cache-Control/Expires decide), revalidation with conditionals,
# stale answers on errors and while updating, and one fetch per key at a time.
mkdir -p "$WORK/nginx/cache"
cat > "$WORK/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    proxy_cache_path $WORK/nginx/cache keys_zone=edge:10m;
    proxy_temp_path $WORK/nginx/temp;
    client_body_temp_path $WORK/nginx/body;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://127.0.0.1:$ORIGIN_PORT;
            proxy_http_version 1.1;
            proxy_cache edge;
            proxy_cache_revalidate on;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_lock on;
            add_header X-Cache \$upstream_cache_status;
        }
    }
}
CONF
# In the foreground (daemon off), so its recorded pid is the master: killing
# it stops the workers too.
nginx -c "$WORK/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)

# Varnish with its built-in VCL, which follows the origin's headers; the
# default TTL for answers that say nothing is 0 here, as RFC 9111 has it.
varnishd -F -n "$WORK/varnish" -a "127.0.0.1:$VARNISH_PORT" -b "127.0.0.1:$ORIGIN_PORT" \
    -s malloc,64m -p default_ttl=0 -p default_grace=0 >"$WORK/varnish.log" 2>&1 &
PIDS+=($!)

"$BIN" edge --origin "http://127.0.0.1:$ORIGIN_PORT" --port "$EDGE_PORT" >"$WORK/edge.log" 2>&1 &
PIDS+=($!)

for port in "$EDGE_PORT" "$NGINX_PORT" "$VARNISH_PORT"; do
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
done

echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(varnishd -V 2>&1 | head -1 | sed 's/varnishd (\(varnish-[^ ]*\).*/\1/')"
echo
# Once one at a time, then 20 at a time: a cache that stores answers only
# when nothing else is in flight fails the second pass.
python3 scripts/cache_conformance.py --origin-port "$ORIGIN_PORT" --require millions \
    --concurrency 1 --concurrency 20 \
    "millions=http://127.0.0.1:$EDGE_PORT" \
    "nginx=http://127.0.0.1:$NGINX_PORT" \
    "varnish=http://127.0.0.1:$VARNISH_PORT"
