output "api_url" {
  value = aws_apigatewayv2_api.api.api_endpoint
}

output "region" {
  value = local.region
}

output "health_check" {
  description = "What Route 53 probes in this region."
  value = {
    id       = aws_route53_health_check.api.id
    type     = aws_route53_health_check.api.type
    fqdn     = aws_route53_health_check.api.fqdn
    path     = aws_route53_health_check.api.resource_path
    attached = aws_route53_record.api_latency.health_check_id == aws_route53_health_check.api.id
  }
}

output "latency_record" {
  value = {
    name           = aws_route53_record.api_latency.name
    set_identifier = aws_route53_record.api_latency.set_identifier
    region         = one(aws_route53_record.api_latency.latency_routing_policy).region
  }
}

output "log_formats" {
  description = "How Lambda formats each function's log lines (null: its default, text)."
  value = {
    api    = module.api_function.log_format
    photos = module.photo_function.log_format
  }
}

output "api_policy" {
  description = "The API function's permissions, as JSON."
  value       = module.api_function.policy
}

output "table_arns" {
  value = local.table_arns
}

output "photo_policy" {
  description = "The photo function's permissions, as JSON."
  value       = module.photo_function.policy
}

output "photo_trigger" {
  value = {
    response_types  = aws_lambda_event_source_mapping.photos.function_response_types
    redrive_policy  = aws_sqs_queue_redrive_policy.jobs.redrive_policy
    visibility_secs = aws_sqs_queue.jobs.visibility_timeout_seconds
    timeout_secs    = module.photo_function.timeout_secs
  }
}

output "photo_bucket_public_access_blocked" {
  value = alltrue([
    aws_s3_bucket_public_access_block.photos.block_public_acls,
    aws_s3_bucket_public_access_block.photos.block_public_policy,
    aws_s3_bucket_public_access_block.photos.ignore_public_acls,
    aws_s3_bucket_public_access_block.photos.restrict_public_buckets,
  ])
}

output "alarms" {
  description = "Each alarm's metric, threshold and actions, by name."
  value = {
    for name, alarm in aws_cloudwatch_metric_alarm.this :
    name => { metric = alarm.metric_name, threshold = alarm.threshold, actions = alarm.alarm_actions, statistic = coalesce(alarm.extended_statistic, alarm.statistic), dimensions = alarm.dimensions }
  }
}

output "system_error_alarms" {
  description = "Each table's DynamoDB SystemErrors alarm: the operations it sums, its threshold and actions, by table role."
  value = {
    for role, alarm in aws_cloudwatch_metric_alarm.system_errors :
    role => {
      table      = one(distinct([for query in alarm.metric_query : query.metric[0].dimensions["TableName"] if length(query.metric) > 0]))
      operations = [for query in alarm.metric_query : query.metric[0].dimensions["Operation"] if length(query.metric) > 0]
      threshold  = alarm.threshold
      actions    = alarm.alarm_actions
    }
  }
}

output "dashboard" {
  description = "The region's CloudWatch dashboard: its name and widgets."
  value = {
    name    = aws_cloudwatch_dashboard.this.dashboard_name
    widgets = jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets
  }
}
