# The API function and exactly the permissions it needs.

resource "aws_cloudwatch_log_group" "api" {
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
      {
        Sid      = "UsersTable"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
        Resource = [local.users_table_arn]
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
      USERS_TABLE = local.s.users_table_name
      RUST_LOG    = "info"
    }
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.api, aws_iam_role_policy.api]
}
