# The users table as a DynamoDB global table: on-demand capacity (nothing to
# pay at rest), partitioned by user_id, encrypted, with point-in-time recovery,
# and replicated to every other region through its stream.

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

resource "aws_dynamodb_table" "users" {
  name                        = "${var.name}-users"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "user_id"
    type = "N"
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

output "users_table_name" {
  value = aws_dynamodb_table.users.name
}

output "replica_regions" {
  value = [for replica in aws_dynamodb_table.users.replica : replica.region_name]
}
