# The photo pipeline of one region: the bucket for originals and outputs, the
# job queue with its dead-letter queue, and the processing function that SQS
# triggers. Each region processes the jobs its API accepted; job records live
# in the global jobs table.

locals {
  # Lambda's guidance: a queue's visibility timeout at least six times the
  # function's timeout, so a message is not redelivered while a retried
  # batch is still running.
  photo_timeout_secs  = 60
  job_visibility_secs = 6 * local.photo_timeout_secs
}

resource "aws_s3_bucket" "photos" {
  #checkov:skip=CKV_AWS_21:Objects are never overwritten with other content: outputs are named by the hash of their bytes and originals by a random id, so versions would only double the storage bill.
  #checkov:skip=CKV_AWS_18:Requests are traced by the API's and the photo function's logs; server access logs would need a second bucket per region for no question those logs cannot answer.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES-256) encrypts every object; photos are served to their owners through the API, and a customer-managed key would add a KMS call to every read and write.
  #checkov:skip=CKV_AWS_144:Each region keeps the photos its API accepted and its jobs produced; job records (global table) say where outputs live, and replication would double storage for a copy no reader uses.
  #checkov:skip=CKV2_AWS_62:Processing starts from the job message the API sends after validating the job, not from object events: an upload alone does not mean a job.
  # Bucket names are global: the region keeps the copies apart.
  bucket = "${local.s.name}-photos-${local.region}"
}

resource "aws_s3_bucket_public_access_block" "photos" {
  bucket                  = aws_s3_bucket.photos.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "photos" {
  bucket = aws_s3_bucket.photos.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "photos" {
  bucket = aws_s3_bucket.photos.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Browsers upload straight to the presigned URL from the product's pages.
resource "aws_s3_bucket_cors_configuration" "photos" {
  bucket = aws_s3_bucket.photos.id
  cors_rule {
    allowed_methods = ["PUT"]
    allowed_origins = length(local.s.allowed_origins) > 0 ? local.s.allowed_origins : ["https://${local.s.api_domain}"]
    allowed_headers = ["content-type", "content-length"]
    max_age_seconds = 3600
  }
}

# Originals whose upload slot was never used by a job still cost storage;
# abandoned multipart uploads too.
resource "aws_s3_bucket_lifecycle_configuration" "photos" {
  bucket = aws_s3_bucket.photos.id
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${local.s.name}-photo-jobs-dlq"
  message_retention_seconds = 14 * 24 * 3600
  sqs_managed_sse_enabled   = true
}

# Only the job queue may send its failures here. Emulators cannot create
# this policy (moto hangs on it), so `emulator` leaves it out.
resource "aws_sqs_queue_redrive_allow_policy" "dead_letters" {
  count     = local.s.emulator ? 0 : 1
  queue_url = aws_sqs_queue.dead_letters.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.jobs.arn]
  })
}

resource "aws_sqs_queue" "jobs" {
  name                       = "${local.s.name}-photo-jobs"
  visibility_timeout_seconds = local.job_visibility_secs
  sqs_managed_sse_enabled    = true

  # The policy belongs to aws_sqs_queue_redrive_policy below; the queue only
  # reports it back (an emulator reformats the JSON, which would otherwise
  # read as a change on every plan).
  lifecycle {
    ignore_changes = [redrive_policy]
  }
}

# A separate resource (rather than the queue's own attribute) compares the
# policy as JSON, not as text, so an equal policy never shows as a change.
resource "aws_sqs_queue_redrive_policy" "jobs" {
  queue_url = aws_sqs_queue.jobs.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = local.s.job_max_receives
  })
}

module "photo_function" {
  source = "../function"

  name                 = local.photo_function_name
  region               = local.region
  zip                  = local.s.photo_lambda_zip
  architecture         = local.s.lambda_architecture
  memory_mb            = local.s.photo_memory_mb
  reserved_concurrency = local.s.photo_reserved_concurrency
  log_retention_days   = local.s.log_retention_days
  json_logs            = !local.s.emulator
  timeout_secs         = local.photo_timeout_secs

  environment = merge(local.shared_environment, {
    JOB_VISIBILITY_SECS = tostring(local.job_visibility_secs)
    JOB_MAX_RECEIVES    = tostring(local.s.job_max_receives)
  })

  statements = [
    {
      Sid      = "JobsTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      Resource = [local.table_arns["jobs"]]
    },
    {
      Sid      = "ReadOriginals"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${aws_s3_bucket.photos.arn}/originals/*"]
    },
    {
      Sid      = "WriteOutputs"
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${aws_s3_bucket.photos.arn}/outputs/*"]
    },
    {
      Sid      = "ConsumeJobs"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      Resource = [aws_sqs_queue.jobs.arn]
    },
  ]
}

# One bad message is reported alone (ReportBatchItemFailures) instead of
# bringing its whole batch back.
resource "aws_lambda_event_source_mapping" "photos" {
  event_source_arn                   = aws_sqs_queue.jobs.arn
  function_name                      = module.photo_function.arn
  batch_size                         = 5
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
}
