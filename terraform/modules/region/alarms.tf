# What pages someone, per region: the API failing, throttled or slow (p99),
# the photo function failing, jobs piling up, any message in the dead-letter
# queue (each one is a job that failed every attempt), and any table
# throttling reads or writes (a hot partition). Actions go to the SNS topic
# in `alarm_topic_arn`; without one the alarms still show in the console.

locals {
  alarm_actions = local.s.alarm_topic_arn == "" ? [] : [local.s.alarm_topic_arn]
  # Every table's throttled reads and writes: on-demand tables throttle when
  # one partition takes more than 3,000 reads or 1,000 writes a second.
  throttle_alarms = merge([
    for role, name in local.s.table_names : {
      for kind in ["Read", "Write"] :
      "${role}-${lower(kind)}-throttles" => {
        namespace   = "AWS/DynamoDB", metric = "${kind}ThrottleEvents", statistic = "Sum", extended = null, threshold = 0
        dimensions  = { TableName = name }
        description = "The ${role} table throttled ${lower(kind)}s: a partition is hot or the account's limits are reached."
      }
    }
  ]...)
  alarms = merge(local.throttle_alarms, {
    api-p99-latency = {
      namespace   = "AWS/ApiGateway", metric = "Latency", statistic = null, extended = "p99", threshold = 1000
      dimensions  = { ApiId = aws_apigatewayv2_api.api.id }
      description = "The slowest 1 % of API requests took more than a second over 5 minutes."
    }
    api-errors = {
      namespace   = "AWS/Lambda", metric = "Errors", statistic = "Sum", extended = null, threshold = 5
      dimensions  = { FunctionName = module.api_function.function_name }
      description = "The API function failed (crashed or timed out) more than 5 times in 5 minutes."
    }
    api-throttles = {
      namespace   = "AWS/Lambda", metric = "Throttles", statistic = "Sum", extended = null, threshold = 0
      dimensions  = { FunctionName = module.api_function.function_name }
      description = "Requests were refused because the API reached its reserved concurrency."
    }
    api-5xx = {
      namespace   = "AWS/ApiGateway", metric = "5xx", statistic = "Sum", extended = null, threshold = 10
      dimensions  = { ApiId = aws_apigatewayv2_api.api.id }
      description = "More than 10 server errors in 5 minutes."
    }
    photo-errors = {
      namespace   = "AWS/Lambda", metric = "Errors", statistic = "Sum", extended = null, threshold = 0
      dimensions  = { FunctionName = module.photo_function.function_name }
      description = "The photo function crashed or timed out (bad inputs fail their job and are not errors)."
    }
    jobs-waiting = {
      namespace   = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", statistic = "Maximum", extended = null, threshold = 900
      dimensions  = { QueueName = aws_sqs_queue.jobs.name }
      description = "A photo job has waited more than 15 minutes: the workers do not keep up."
    }
    dead-letters = {
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", statistic = "Maximum", extended = null, threshold = 0
      dimensions  = { QueueName = aws_sqs_queue.dead_letters.name }
      description = "A photo job failed every attempt; its message waits in the dead-letter queue."
    }
  })
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${local.s.name}-${each.key}-${local.region}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  extended_statistic  = each.value.extended
  dimensions          = each.value.dimensions
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  # No data means no traffic (or no failures), not trouble.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
}

# DynamoDB publishes SystemErrors (its own 5xx) per table and operation
# only, so each table's alarm adds up the operations the adapters call.
locals {
  dynamodb_operations = ["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"]
}

resource "aws_cloudwatch_metric_alarm" "system_errors" {
  for_each = local.s.table_names

  alarm_name          = "${local.s.name}-${each.key}-system-errors-${local.region}"
  alarm_description   = "DynamoDB failed requests to the ${each.key} table with its own errors (HTTP 500): retried by the clients, then answered 503."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "errors"
    expression  = "SUM(METRICS())"
    label       = "SystemErrors, every operation"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.dynamodb_operations
    content {
      id = "op${metric_query.key}"
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "SystemErrors"
        stat        = "Sum"
        period      = 300
        dimensions  = { TableName = each.value, Operation = metric_query.value }
      }
    }
  }
}
