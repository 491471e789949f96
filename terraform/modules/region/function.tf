# The API function and exactly the permissions it needs.

resource "aws_cloudwatch_log_group" "api" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; the functions log no secrets (tokens are never logged, only request ids), so a customer-managed key adds cost without protecting more.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = local.s.log_retention_days
}

resource "aws_iam_role" "api" {
  # IAM is global: the region keeps the two regions' roles apart.
  name = "${local.function_name}-${local.region}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "api" {
  name = "least-privilege"
  role = aws_iam_role.api.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # Conditional writes and TransactWriteItems need only the item
      # actions on each table they touch.
      {
        Sid      = "UsersTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
        Resource = [local.table_arns["users"]]
      },
      {
        Sid      = "LoginsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
        Resource = [local.table_arns["logins"]]
      },
      {
        Sid      = "SessionsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        Resource = [local.table_arns["sessions"]]
      },
      {
        Sid      = "RateLimitCounters"
        Effect   = "Allow"
        Action   = ["dynamodb:UpdateItem"]
        Resource = [local.table_arns["rate-limits"]]
      },
      {
        Sid      = "JobsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = [local.table_arns["jobs"]]
      },
      # Presigned uploads are signed with this role's credentials, so it
      # needs PutObject on originals; reads serve processed outputs.
      {
        Sid      = "PhotoOriginals"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${aws_s3_bucket.photos.arn}/originals/*"]
      },
      {
        Sid      = "PhotoOutputs"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${aws_s3_bucket.photos.arn}/outputs/*"]
      },
      {
        Sid      = "QueueJobs"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.jobs.arn]
      },
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.api.arn}:*"]
      },
    ]
  })
}

resource "aws_lambda_function" "api" {
  #checkov:skip=CKV_AWS_117:The function reaches only AWS public endpoints (DynamoDB, S3, SQS) over TLS with IAM auth; a VPC would add NAT gateways (a fixed cost at rest) and cold-start latency for no access it lacks.
  #checkov:skip=CKV_AWS_272:The package is built from this repository by CI and uploaded by Terraform from the same checkout; code signing would need a signing profile outside this deployment.
  #checkov:skip=CKV_AWS_173:The environment holds only resource names and tuning numbers, no secrets; Lambda encrypts it at rest with an AWS-managed key.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway, which returns any failure to the client; a dead-letter queue only applies to asynchronous invocations.
  function_name    = local.function_name
  role             = aws_iam_role.api.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = local.s.api_lambda_zip
  source_code_hash = filebase64sha256(local.s.api_lambda_zip)
  architectures    = [local.s.lambda_architecture]
  memory_size      = local.s.api_memory_mb
  # API Gateway gives up after 30 s; a request should finish far sooner, and a
  # short timeout frees a stuck instance quickly.
  timeout                        = 10
  reserved_concurrent_executions = local.s.api_reserved_concurrency

  environment {
    variables = {
      USERS_TABLE        = local.s.table_names["users"]
      LOGINS_TABLE       = local.s.table_names["logins"]
      SESSIONS_TABLE     = local.s.table_names["sessions"]
      RATE_LIMITS_TABLE  = local.s.table_names["rate-limits"]
      JOBS_TABLE         = local.s.table_names["jobs"]
      PHOTOS_BUCKET      = aws_s3_bucket.photos.bucket
      JOBS_QUEUE_URL     = aws_sqs_queue.jobs.url
      JOBS_DLQ_URL       = aws_sqs_queue.dead_letters.url
      ALLOWED_ORIGINS    = join(",", local.s.allowed_origins)
      TRUSTED_PROXY_HOPS = tostring(local.s.trusted_proxy_hops)
      RUST_LOG           = "info"
    }
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.api, aws_iam_role_policy.api]
}
