# One Lambda function of a region, with its log group, and a role that may do
# exactly what the caller's statements allow plus write the function's own
# logs. The API and the photo function are both built from it.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; the functions log no secrets (tokens are never logged, only request ids), so a customer-managed key adds cost without protecting more.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role" "this" {
  # IAM is global: the region keeps the regions' roles apart.
  name = "${var.name}-${var.region}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "least-privilege"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(var.statements, [{
      Sid      = "OwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
    }])
  })
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions reach only AWS public endpoints (DynamoDB, S3, SQS) over TLS with IAM auth; a VPC would add NAT gateways (a fixed cost at rest) and cold-start latency for no access they lack.
  #checkov:skip=CKV_AWS_272:The package is built from this repository by CI and uploaded by Terraform from the same checkout; code signing would need a signing profile outside this deployment.
  #checkov:skip=CKV_AWS_173:The environment holds only resource names and tuning numbers, no secrets; Lambda encrypts it at rest with an AWS-managed key.
  #checkov:skip=CKV_AWS_116:The API is invoked synchronously by API Gateway, which returns any failure to the client; the photo function is triggered by SQS, whose queue has its own dead-letter queue. A function DLQ only applies to asynchronous invocations.
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  filename                       = var.zip
  source_code_hash               = filebase64sha256(var.zip)
  architectures                  = [var.architecture]
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_secs
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = var.environment
  }

  # JSON log lines: Lambda then sets AWS_LAMBDA_LOG_FORMAT=JSON, which the
  # functions' subscriber (lambda_runtime's default) follows, so CloudWatch
  # Logs Insights can filter on the fields (request id, status, cause)
  # instead of parsing text. The log group is the one made above. moto does
  # not keep the setting (a perpetual diff), so an emulator leaves it out.
  dynamic "logging_config" {
    for_each = var.json_logs ? [1] : []
    content {
      log_format = "JSON"
      log_group  = aws_cloudwatch_log_group.this.name
    }
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
