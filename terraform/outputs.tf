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

output "users_table_name" {
  value = module.tables.users_table_name
}

output "replica_regions" {
  description = "Regions holding a replica of the tables, besides the primary."
  value       = module.tables.replica_regions
}
