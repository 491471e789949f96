# The Cloudflare side, deployed by the same `terraform apply`: the Worker
# (edge/worker, configured by wrangler.toml) gets the regions' API endpoints
# as its ORIGINS, primary first, each with the continents it serves first,
# which is the order and shape the edge policy expects. Only the AWS provider
# is used, so the deploy runs `wrangler deploy` through a terraform_data
# resource; Cloudflare credentials come from the environment
# (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID), never from variables.
# `deploy_edge = false` leaves it out, for AWS-only deployments.

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
    bundle  = fileexists("${local.repository_root}/edge/worker/build/index_bg.wasm") ? filesha256("${local.repository_root}/edge/worker/build/index_bg.wasm") : "unbuilt"
  }

  provisioner "local-exec" {
    working_dir = local.repository_root
    command     = "bash scripts/deploy-edge.sh ${var.edge_environment}"
    environment = {
      EDGE_ORIGINS = local.edge_origins
      EDGE_DOMAIN  = var.cdn_domain
    }
  }
}
