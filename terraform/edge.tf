# The Cloudflare side, deployed by the same `terraform apply`: the Worker
# (edge/worker, configured by wrangler.toml) gets the regions' API endpoints
# as its ORIGINS, primary first, each with the continents it serves first,
# which is the order and shape the edge policy expects. Only the AWS provider
# is used, so the deploy runs `wrangler deploy` through a terraform_data
# resource; Cloudflare credentials come from the environment
# (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID), never from variables.
# `deploy_edge = false` leaves it out, for AWS-only deployments.
#
# With `cloudflare_zone_id`, the Worker also purges a write's stale entries
# in every data centre of that zone: it names its Cache API entries under
# the CDN domain (CACHE_ORIGIN, so the zone's purge-by-URL call reaches
# them) and calls that API with the token the deploy script stores as the
# Worker secret PURGE_TOKEN, read from CLOUDFLARE_PURGE_TOKEN in the
# environment like the other credentials.

locals {
  edge_origins = jsonencode([
    { region = var.primary_region, url = module.primary.api_url, near = var.primary_continents },
    { region = var.secondary_region, url = module.secondary.api_url, near = var.secondary_continents },
  ])
  repository_root = abspath("${path.root}/..")
}

resource "terraform_data" "edge" {
  count = var.deploy_edge ? 1 : 0

  # A new Worker build or a new origin list redeploys the edge.
  triggers_replace = {
    origins = local.edge_origins
    domain  = var.cdn_domain
    zone    = var.cloudflare_zone_id
    bundle  = fileexists("${local.repository_root}/edge/worker/build/index_bg.wasm") ? filesha256("${local.repository_root}/edge/worker/build/index_bg.wasm") : "unbuilt"
  }

  lifecycle {
    precondition {
      condition     = var.cloudflare_zone_id == "" || var.cdn_domain != ""
      error_message = "A zone-wide purge names the Worker's entries under cdn_domain: set cdn_domain to the domain in that zone, or leave cloudflare_zone_id empty."
    }
  }

  provisioner "local-exec" {
    working_dir = local.repository_root
    command     = "bash scripts/deploy-edge.sh ${var.edge_environment}"
    environment = {
      EDGE_ORIGINS = local.edge_origins
      EDGE_DOMAIN  = var.cdn_domain
      EDGE_ZONE_ID = var.cloudflare_zone_id
    }
  }
}
