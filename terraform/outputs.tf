output "cdn_domain" {
  description = "Where users reach the product: the edge's custom domain (or its workers.dev address when cdn_domain is empty)."
  value       = var.deploy_edge ? (var.cdn_domain != "" ? var.cdn_domain : "millions-edge-${var.edge_environment}.<account>.workers.dev") : null
}

output "api_domain" {
  description = "The API origin: Route 53 answers with the nearest healthy region."
  value       = var.api_domain
}

output "region_api_urls" {
  description = "Each region's own API endpoint, for testing a region directly."
  value = {
    (var.primary_region)   = module.primary.api_url
    (var.secondary_region) = module.secondary.api_url
  }
}

output "table_names" {
  description = "The DynamoDB tables by role."
  value       = module.tables.table_names
}

output "ttl_attributes" {
  description = "The TTL attribute of each expiring table."
  value       = module.tables.ttl_attributes
}

output "replica_regions" {
  description = "Regions holding a replica of the tables, besides the primary."
  value       = module.tables.replica_regions
}

output "edge_origins" {
  description = "The Worker's ORIGINS: each region's API endpoint, primary first, with the continents it serves first."
  value       = local.edge_origins
}
