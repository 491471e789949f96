# The data tier as DynamoDB global tables: on-demand capacity (nothing to pay
# at rest), encrypted, with point-in-time recovery, and replicated to every
# other region through their streams. Sessions and rate-limit counters carry
# an `expires_at` TTL; the application also checks expiry itself, since TTL
# deletion can lag by days.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "name" {
  type = string
}

variable "replica_regions" {
  description = "Regions that hold a replica, besides this provider's region."
  type        = list(string)
}

variable "deletion_protection" {
  type    = bool
  default = true
}

locals {
  # Each table's partition key, its type, whether items expire, and its sort
  # key if it has one. Likes: the partition is a part of one profile's count
  # (`{user_id}#{part}`), the sort key the liker (0 for the part's counter).
  # Activity: one sketch of the day's active users per UTC day.
  tables = {
    users       = { key = "user_id", type = "N", expires = false, sort = null }
    logins      = { key = "email", type = "S", expires = false, sort = null }
    sessions    = { key = "token_hash", type = "S", expires = true, sort = null }
    rate-limits = { key = "counter", type = "S", expires = true, sort = null }
    jobs        = { key = "job_id", type = "S", expires = true, sort = null }
    likes       = { key = "part", type = "S", expires = false, sort = "liker" }
    activity    = { key = "day", type = "N", expires = true, sort = null }
  }
}

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key (server_side_encryption below); a customer-managed key would need a replica key in every region of the global table and a KMS charge per request, for data the IAM policies already confine to the functions.
  for_each = local.tables

  name                        = "${var.name}-${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.key
  range_key                   = each.value.sort
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = each.value.key
    type = each.value.type
  }

  dynamic "attribute" {
    for_each = each.value.sort == null ? [] : [each.value.sort]
    content {
      name = attribute.value
      type = "N"
    }
  }

  ttl {
    enabled        = each.value.expires
    attribute_name = each.value.expires ? "expires_at" : ""
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  dynamic "replica" {
    for_each = var.replica_regions
    content {
      region_name            = replica.value
      point_in_time_recovery = true
      propagate_tags         = true
    }
  }
}

moved {
  from = aws_dynamodb_table.users
  to   = aws_dynamodb_table.this["users"]
}

output "table_names" {
  description = "Table names by role: users, logins, sessions, rate-limits, jobs, likes, activity."
  value       = { for role, table in aws_dynamodb_table.this : role => table.name }
}

output "ttl_attributes" {
  description = "The TTL attribute of each table that expires items."
  value       = { for role, table in aws_dynamodb_table.this : role => one(table.ttl).attribute_name if one(table.ttl).enabled }
}

output "replica_regions" {
  description = "Regions holding a replica of every table."
  value = distinct(flatten([
    for table in aws_dynamodb_table.this : [for replica in table.replica : replica.region_name]
  ]))
}
