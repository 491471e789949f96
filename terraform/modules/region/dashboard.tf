# One CloudWatch dashboard per region with the figures the local stack's
# /_local/metrics shows: traffic, latency and errors from API Gateway and
# Lambda, the business metrics the functions write as Embedded Metric Format
# (namespace "millions", dimension `function`), the job queue, and the
# tables' consumed capacity and throttling.

locals {
  dashboard_name = "${local.s.name}-${local.region}"
  api_dims       = ["ApiId", aws_apigatewayv2_api.api.id]
  widget = {
    traffic = {
      title = "API requests and server errors"
      metrics = [
        concat(["AWS/ApiGateway", "Count"], local.api_dims, [{ stat = "Sum" }]),
        concat(["AWS/ApiGateway", "5xx"], local.api_dims, [{ stat = "Sum" }]),
        concat(["AWS/ApiGateway", "4xx"], local.api_dims, [{ stat = "Sum" }]),
      ]
    }
    latency = {
      title = "API latency (ms)"
      metrics = [
        concat(["AWS/ApiGateway", "Latency"], local.api_dims, [{ stat = "p50" }]),
        concat(["AWS/ApiGateway", "Latency"], local.api_dims, [{ stat = "p99" }]),
      ]
    }
    functions = {
      title = "Function errors and throttles"
      metrics = [
        ["AWS/Lambda", "Errors", "FunctionName", module.api_function.function_name, { stat = "Sum" }],
        ["AWS/Lambda", "Throttles", "FunctionName", module.api_function.function_name, { stat = "Sum" }],
        ["AWS/Lambda", "Errors", "FunctionName", module.photo_function.function_name, { stat = "Sum" }],
      ]
    }
    business = {
      title = "Sign-ups, logins and photos"
      metrics = [
        ["millions", "signups_total", "function", "api", { stat = "Sum" }],
        ["millions", "logins_total", "function", "api", "outcome", "success", { stat = "Sum" }],
        ["millions", "logins_total", "function", "api", "outcome", "failure", { stat = "Sum" }],
        ["millions", "photo_jobs_total", "function", "photos", "outcome", "done", { stat = "Sum" }],
        ["millions", "photo_jobs_total", "function", "photos", "outcome", "failed", { stat = "Sum" }],
      ]
    }
    active_users = {
      title   = "Daily active users (every region's sketch merged)"
      metrics = [["millions", "daily_active_users", "function", "api", { stat = "Maximum" }]]
    }
    queue = {
      title = "Photo jobs waiting, oldest age (s), dead letters"
      metrics = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.jobs.name, { stat = "Maximum" }],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.jobs.name, { stat = "Maximum" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letters.name, { stat = "Maximum" }],
      ]
    }
    tables = {
      title = "Table capacity used and throttled"
      # A list of metrics per table, joined (flatten would also flatten
      # each metric's own list).
      metrics = concat([
        for role in ["users", "sessions", "likes"] : [
          ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", local.s.table_names[role], { stat = "Sum" }],
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", local.s.table_names[role], { stat = "Sum" }],
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", local.s.table_names[role], { stat = "Sum" }],
        ]
      ]...)
    }
  }
  widget_order = ["traffic", "latency", "functions", "business", "active_users", "queue", "tables"]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = [
      for index, key in local.widget_order : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = local.widget[key].title
          region  = local.region
          period  = 60
          view    = "timeSeries"
          metrics = local.widget[key].metrics
        }
      }
    ]
  })
}
