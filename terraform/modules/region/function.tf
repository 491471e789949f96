# The API function and exactly the permissions it needs.

module "api_function" {
  source = "../function"

  name                 = local.function_name
  region               = local.region
  zip                  = local.s.api_lambda_zip
  architecture         = local.s.lambda_architecture
  memory_mb            = local.s.api_memory_mb
  reserved_concurrency = local.s.api_reserved_concurrency
  log_retention_days   = local.s.log_retention_days
  json_logs            = !local.s.emulator
  # API Gateway gives up after 30 s; a request should finish far sooner, and a
  # short timeout frees a stuck instance quickly.
  timeout_secs = 10

  environment = merge(local.shared_environment, {
    ALLOWED_ORIGINS    = join(",", local.s.allowed_origins)
    TRUSTED_PROXY_HOPS = tostring(local.s.trusted_proxy_hops)
  })

  statements = [
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
    # A like and its count change in one TransactWriteItems; a count is one
    # BatchGetItem of its parts.
    {
      Sid      = "LikesTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      Resource = [local.table_arns["likes"]]
    },
    # Each instance merges its sketch of the day's active users into the
    # day's item: a strong read, then a put conditional on the version.
    {
      Sid      = "ActivityTable"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem"]
      Resource = [local.table_arns["activity"]]
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
  ]
}
