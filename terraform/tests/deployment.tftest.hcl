# Plans and applies the root module against mocked AWS providers (no account,
# no network) and checks the routing, the replica set and the permissions.

mock_provider "aws" {
  alias = "primary"

  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      api_endpoint  = "https://a1b2c3.execute-api.us-east-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/millions-api" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::millions-photos-us-east-1", bucket = "millions-photos-us-east-1" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:millions-photo-jobs"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/millions-photo-jobs"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/millions-api-us-east-1" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:millions-api/invocations" }
  }
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:us-east-1:123456789012:certificate/1"
      domain_validation_options = [{
        domain_name           = "api.millions.example"
        resource_record_name  = "_a1.api.millions.example."
        resource_record_type  = "CNAME"
        resource_record_value = "_b2.acm-validations.aws."
      }]
    }
  }
}

mock_provider "aws" {
  alias = "secondary"

  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      api_endpoint  = "https://d4e5f6.execute-api.eu-west-1.amazonaws.com"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:d4e5f6"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/millions-api" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::millions-photos-eu-west-1", bucket = "millions-photos-eu-west-1" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:millions-photo-jobs"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/millions-photo-jobs"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/millions-api-eu-west-1" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:millions-api/invocations" }
  }
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:eu-west-1:123456789012:certificate/2"
      domain_validation_options = [{
        domain_name           = "api.millions.example"
        resource_record_name  = "_a1.api.millions.example."
        resource_record_type  = "CNAME"
        resource_record_value = "_b2.acm-validations.aws."
      }]
    }
  }
}

variables {
  api_domain       = "api.millions.example"
  hosted_zone_id   = "Z0123456789ABCDEFGHIJ"
  api_lambda_zip   = "tests/fixtures/bootstrap.zip"
  photo_lambda_zip = "tests/fixtures/bootstrap.zip"
  # Applying would run wrangler deploy; the planned deploy is checked below.
  deploy_edge = false
}

run "each_region_has_a_health_checked_latency_record" {
  command = apply

  assert {
    condition     = module.primary.latency_record.region == "us-east-1" && module.secondary.latency_record.region == "eu-west-1"
    error_message = "Each region needs a latency record for its own region."
  }
  assert {
    condition     = module.primary.latency_record.name == "api.millions.example" && module.secondary.latency_record.name == "api.millions.example"
    error_message = "Both latency records must answer the shared API name."
  }
  assert {
    condition     = module.primary.latency_record.set_identifier != module.secondary.latency_record.set_identifier
    error_message = "Latency records of one name need distinct set identifiers."
  }
  assert {
    condition     = module.primary.health_check.attached && module.secondary.health_check.attached
    error_message = "Each latency record must carry its region's health check, or a failed region keeps its traffic."
  }
  assert {
    condition     = module.primary.health_check.path == "/health" && module.primary.health_check.type == "HTTPS"
    error_message = "The health check must probe GET /health over HTTPS."
  }
  assert {
    condition     = module.primary.health_check.fqdn == "a1b2c3.execute-api.us-east-1.amazonaws.com" && module.secondary.health_check.fqdn == "d4e5f6.execute-api.eu-west-1.amazonaws.com"
    error_message = "Each health check must probe its own region's endpoint, not the shared name."
  }
}

run "every_table_is_replicated_to_the_secondary_region" {
  command = apply

  assert {
    condition     = output.replica_regions == tolist(["eu-west-1"])
    error_message = "The tables must have a replica in the secondary region."
  }
  assert {
    condition     = keys(output.table_names) == ["activity", "jobs", "likes", "logins", "rate-limits", "sessions", "users"]
    error_message = "Users, logins, sessions, rate-limit, jobs, likes and activity tables are created."
  }
}

run "sessions_and_counters_expire_by_ttl" {
  command = apply

  assert {
    condition     = output.ttl_attributes == { sessions = "expires_at", rate-limits = "expires_at", jobs = "expires_at", activity = "expires_at" }
    error_message = "Sessions, rate-limit counters, job records and daily activity sketches (and nothing else) expire through TTL on expires_at."
  }
  assert {
    condition     = output.table_names["sessions"] == "millions-sessions" && output.table_names["logins"] == "millions-logins"
    error_message = "Tables are named after the deployment."
  }
}

run "the_emulator_switch_turns_replicas_off" {
  command = apply

  variables {
    emulator = true
  }

  assert {
    condition     = length(output.replica_regions) == 0
    error_message = "Under the emulator the table has no replica blocks."
  }
}

run "the_functions_log_json_lines" {
  command = apply

  assert {
    condition     = module.primary.log_formats == { api = "JSON", photos = "JSON" } && module.secondary.log_formats == { api = "JSON", photos = "JSON" }
    error_message = "Both functions in both regions log JSON (Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON, which their subscriber follows)."
  }
}

run "the_api_function_may_touch_only_its_own_tables_and_logs" {
  command = apply

  assert {
    condition = [for statement in jsondecode(module.primary.api_policy).Statement : statement.Resource[0]] == [
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-users",
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-logins",
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-sessions",
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-rate-limits",
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-jobs",
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-likes",
      "arn:aws:dynamodb:us-east-1:123456789012:table/millions-activity",
      "arn:aws:s3:::millions-photos-us-east-1/originals/*",
      "arn:aws:s3:::millions-photos-us-east-1/outputs/*",
      "arn:aws:sqs:us-east-1:123456789012:millions-photo-jobs",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/millions-api:*",
    ]
    error_message = "Each statement names exactly one of the function's own resources in its own region."
  }
  assert {
    condition = alltrue([
      for statement in jsondecode(module.secondary.api_policy).Statement :
      strcontains(statement.Resource[0], "eu-west-1") && length(statement.Resource) == 1
    ])
    error_message = "The secondary's API must use the replicas, bucket, queue and logs of its own region."
  }
  assert {
    condition     = jsondecode(module.primary.api_policy).Statement[3].Action == ["dynamodb:UpdateItem"]
    error_message = "Rate-limit counters are only ever incremented."
  }
  assert {
    condition = alltrue([
      for statement in jsondecode(module.primary.api_policy).Statement :
      alltrue([for action in statement.Action : !strcontains(action, "*")])
    ])
    error_message = "No wildcard actions."
  }
  assert {
    condition     = [for statement in jsondecode(module.primary.api_policy).Statement : statement.Resource if statement.Sid == "OwnLogs"][0] == ["arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/millions-api:*"]
    error_message = "Log permissions must name only the function's own log group."
  }
}

run "the_photo_function_reads_originals_writes_outputs_and_consumes_its_queue" {
  command = apply

  assert {
    condition = { for statement in jsondecode(module.primary.photo_policy).Statement : statement.Sid => [statement.Action, statement.Resource] if statement.Sid != "OwnLogs" } == {
      JobsTable     = [["dynamodb:GetItem", "dynamodb:UpdateItem"], ["arn:aws:dynamodb:us-east-1:123456789012:table/millions-jobs"]]
      ReadOriginals = [["s3:GetObject"], ["arn:aws:s3:::millions-photos-us-east-1/originals/*"]]
      WriteOutputs  = [["s3:PutObject"], ["arn:aws:s3:::millions-photos-us-east-1/outputs/*"]]
      ConsumeJobs   = [["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], ["arn:aws:sqs:us-east-1:123456789012:millions-photo-jobs"]]
    }
    error_message = "The photo function may read originals, write outputs, update jobs and consume its own queue, nothing else."
  }
  assert {
    condition     = [for statement in jsondecode(module.primary.photo_policy).Statement : statement.Action if statement.Sid == "OwnLogs"][0] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    error_message = "Besides that, it may only write its logs."
  }
  assert {
    condition     = module.primary.photo_trigger.response_types == toset(["ReportBatchItemFailures"])
    error_message = "The SQS trigger reports partial batch failures."
  }
  assert {
    condition     = jsondecode(module.secondary.photo_trigger.redrive_policy).maxReceiveCount == 3
    error_message = "A message goes to the dead-letter queue after three deliveries."
  }
  assert {
    condition     = module.primary.photo_trigger.visibility_secs >= 6 * module.primary.photo_trigger.timeout_secs
    error_message = "The queue hides a message for at least six times the function's timeout."
  }
  assert {
    condition     = module.primary.photo_bucket_public_access_blocked
    error_message = "The photo bucket is never public."
  }
}

run "each_region_alarms_on_failures_and_dead_letters" {
  command = apply

  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:millions-alarms"
  }

  assert {
    condition     = keys(module.primary.alarms) == keys(module.secondary.alarms)
    error_message = "Both regions have the same alarms."
  }
  assert {
    condition     = module.secondary.alarms["dead-letters"].metric == "ApproximateNumberOfMessagesVisible" && module.secondary.alarms["dead-letters"].threshold == 0
    error_message = "Any message in the dead-letter queue raises an alarm."
  }
  assert {
    condition     = alltrue([for alarm in values(module.primary.alarms) : alarm.actions == toset(["arn:aws:sns:us-east-1:123456789012:millions-alarms"])])
    error_message = "Every alarm notifies the alarm topic."
  }
  assert {
    condition     = module.primary.alarms["api-p99-latency"].statistic == "p99" && module.primary.alarms["api-p99-latency"].metric == "Latency"
    error_message = "The API's p99 latency raises an alarm."
  }
  assert {
    condition = alltrue([
      for role in ["users", "logins", "sessions", "rate-limits", "jobs", "likes", "activity"] :
      module.secondary.alarms["${role}-write-throttles"].dimensions["TableName"] == "millions-${role}" && module.secondary.alarms["${role}-read-throttles"].metric == "ReadThrottleEvents"
    ])
    error_message = "Every table's throttled reads and writes raise an alarm."
  }
  assert {
    condition = alltrue([
      for role in ["users", "logins", "sessions", "rate-limits", "jobs", "likes", "activity"] :
      module.secondary.system_error_alarms[role].table == "millions-${role}" && contains(module.secondary.system_error_alarms[role].operations, "TransactWriteItems") && length(module.secondary.system_error_alarms[role].operations) == 6 && module.secondary.system_error_alarms[role].threshold == 0 && module.secondary.system_error_alarms[role].actions == toset(["arn:aws:sns:us-east-1:123456789012:millions-alarms"])
    ])
    error_message = "Every table's DynamoDB system errors, of every operation the adapters call, raise an alarm on the alarm topic."
  }
}

run "each_region_has_a_dashboard_of_traffic_business_queue_and_tables" {
  command = apply

  assert {
    condition     = module.primary.dashboard.name == "millions-us-east-1" && module.secondary.dashboard.name == "millions-eu-west-1"
    error_message = "One dashboard per region, named after it."
  }
  assert {
    condition = toset([for widget in module.primary.dashboard.widgets : widget.properties.title]) == toset([
      "API requests and server errors", "API latency (ms)", "Function errors and throttles", "Sign-ups, logins and photos",
      "Daily active users (every region's sketch merged)", "Photo jobs waiting, oldest age (s), dead letters", "Table capacity used and throttled",
    ])
    error_message = "The dashboard shows traffic, latency, functions, business metrics, active users, the queue and the tables."
  }
  assert {
    condition = contains(flatten([
      for widget in module.primary.dashboard.widgets : [for metric in widget.properties.metrics : "${metric[0]}/${metric[1]}"]
    ]), "millions/daily_active_users")
    error_message = "The business metrics come from the functions' EMF namespace."
  }
  assert {
    condition     = alltrue([for widget in module.secondary.dashboard.widgets : widget.properties.region == "eu-west-1"])
    error_message = "Each region's dashboard reads its own region's metrics."
  }
}

run "the_edge_gets_the_regions_in_policy_order" {
  command = apply

  assert {
    condition = jsondecode(output.edge_origins) == [
      { region = "us-east-1", url = "https://a1b2c3.execute-api.us-east-1.amazonaws.com", near = ["NA", "SA"] },
      { region = "eu-west-1", url = "https://d4e5f6.execute-api.eu-west-1.amazonaws.com", near = ["EU", "AF", "AS", "OC"] },
    ]
    error_message = "The Worker's origins are the regions' endpoints, primary first, with their continents."
  }
}

run "the_edge_deploy_is_planned_unless_turned_off" {
  command = plan

  variables {
    deploy_edge        = true
    cdn_domain         = "millions.example.com"
    cloudflare_zone_id = "023e105f4ecef8ad9ca31a8372d0c353"
  }

  assert {
    condition     = output.cdn_domain == "millions.example.com"
    error_message = "The CDN domain is printed."
  }

  assert {
    condition     = length(terraform_data.edge) == 1
    error_message = "With deploy_edge, one apply also deploys the Worker."
  }

  assert {
    condition     = terraform_data.edge[0].triggers_replace.zone == "023e105f4ecef8ad9ca31a8372d0c353"
    error_message = "A new zone for the zone-wide purge redeploys the Worker."
  }
}

run "a_zone_purge_needs_the_cdn_domain" {
  command = plan

  variables {
    deploy_edge        = true
    cloudflare_zone_id = "023e105f4ecef8ad9ca31a8372d0c353"
  }

  # The Worker's entries are named under cdn_domain, or the zone's purge
  # reaches none of them.
  expect_failures = [terraform_data.edge]
}

run "the_zone_id_is_a_zone_id" {
  command = plan

  variables {
    cloudflare_zone_id = "millions.example.com"
  }

  expect_failures = [var.cloudflare_zone_id]
}

run "aws_only_deployments_leave_the_edge_out" {
  command = plan

  assert {
    condition     = length(terraform_data.edge) == 0
    error_message = "deploy_edge = false plans no Worker deploy."
  }
}
