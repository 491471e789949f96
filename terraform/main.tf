# The whole deployment: global tables in the primary region replicated to
# the secondary, and one copy of the regional stack per region. Route 53
# latency records with health checks send each client to the nearest healthy
# region; when a region fails its health check, all traffic goes to the other.

provider "aws" {
  alias  = "primary"
  region = var.primary_region

  # An emulator (AWS_ENDPOINT_URL) has no real credentials or account.
  skip_credentials_validation = var.emulator
  skip_requesting_account_id  = var.emulator
  s3_use_path_style           = var.emulator
}

provider "aws" {
  alias  = "secondary"
  region = var.secondary_region

  # An emulator (AWS_ENDPOINT_URL) has no real credentials or account.
  skip_credentials_validation = var.emulator
  skip_requesting_account_id  = var.emulator
  s3_use_path_style           = var.emulator
}

module "tables" {
  source    = "./modules/tables"
  providers = { aws = aws.primary }

  name            = var.name
  replica_regions = var.emulator ? [] : [var.secondary_region]
  # Emulator runs end with `terraform destroy`; real tables are protected.
  deletion_protection = !var.emulator
}

locals {
  region_settings = {
    name                       = var.name
    table_names                = module.tables.table_names
    allowed_origins            = var.allowed_origins
    trusted_proxy_hops         = var.trusted_proxy_hops
    api_lambda_zip             = var.api_lambda_zip
    lambda_architecture        = var.lambda_architecture
    api_memory_mb              = var.api_memory_mb
    api_reserved_concurrency   = var.api_reserved_concurrency
    api_domain                 = var.api_domain
    hosted_zone_id             = var.hosted_zone_id
    log_retention_days         = var.log_retention_days
    photo_lambda_zip           = var.photo_lambda_zip
    photo_memory_mb            = var.photo_memory_mb
    photo_reserved_concurrency = var.photo_reserved_concurrency
    job_max_receives           = var.job_max_receives
    emulator                   = var.emulator
    alarm_topic_arn            = var.alarm_topic_arn
  }
}

module "primary" {
  source    = "./modules/region"
  providers = { aws = aws.primary }
  settings  = local.region_settings
}

module "secondary" {
  source    = "./modules/region"
  providers = { aws = aws.secondary }
  settings  = local.region_settings

  # The secondary's table replica exists only once the global table does.
  depends_on = [module.tables]
}
