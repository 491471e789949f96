# One region's copy of the stack: the API function behind an HTTP API with the
# shared custom domain, a health check on GET /health, and a latency record
# that Route 53 withdraws while the health check fails.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  s                   = var.settings
  region              = data.aws_region.current.name
  function_name       = "${local.s.name}-api"
  photo_function_name = "${local.s.name}-photos"
  # The replicas of the global tables in this region, by role.
  table_arns = {
    for role, name in local.s.table_names :
    role => "arn:${data.aws_partition.current.partition}:dynamodb:${local.region}:${data.aws_caller_identity.current.account_id}:table/${name}"
  }
}
