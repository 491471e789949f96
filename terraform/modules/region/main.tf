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
  # What both functions read: where the stores are (the tables' replicas in
  # this region, the bucket and the queues), and their log level.
  shared_environment = {
    USERS_TABLE       = local.s.table_names["users"]
    LOGINS_TABLE      = local.s.table_names["logins"]
    SESSIONS_TABLE    = local.s.table_names["sessions"]
    RATE_LIMITS_TABLE = local.s.table_names["rate-limits"]
    JOBS_TABLE        = local.s.table_names["jobs"]
    LIKES_TABLE       = local.s.table_names["likes"]
    ACTIVITY_TABLE    = local.s.table_names["activity"]
    PHOTOS_BUCKET     = aws_s3_bucket.photos.bucket
    JOBS_QUEUE_URL    = aws_sqs_queue.jobs.url
    JOBS_DLQ_URL      = aws_sqs_queue.dead_letters.url
    RUST_LOG          = "info"
  }
  # The replicas of the global tables in this region, by role.
  table_arns = {
    for role, name in local.s.table_names :
    role => "arn:${data.aws_partition.current.partition}:dynamodb:${local.region}:${data.aws_caller_identity.current.account_id}:table/${name}"
  }
}
