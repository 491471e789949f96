# API Gateway HTTP API in front of the function, reachable on the shared
# custom domain with this region's certificate.

resource "aws_apigatewayv2_api" "api" {
  name          = "${local.s.name}-api"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.api.id
  integration_type       = "AWS_PROXY"
  integration_uri        = module.api_function.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "all" {
  #checkov:skip=CKV_AWS_309:Public reads and sign-up need no credentials; every other route checks the session itself (the API's CurrentSession), the same in every runtime, so Gateway-level authorization would duplicate it.
  api_id    = aws_apigatewayv2_api.api.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest; access lines hold no secrets (no bodies, no tokens), so a customer-managed key would add cost and key management without protecting anything more.
  name              = "/aws/apigateway/${local.s.name}-api"
  retention_in_days = local.s.log_retention_days
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.api.id
  name        = "$default"
  auto_deploy = true

  # One JSON line per request, with the id the API logs too.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId   = "$context.requestId"
      ip          = "$context.identity.sourceIp"
      method      = "$context.httpMethod"
      path        = "$context.path"
      status      = "$context.status"
      latencyMs   = "$context.responseLatency"
      integration = "$context.integrationErrorMessage"
    })
  }

  default_route_settings {
    throttling_burst_limit = 1000
    throttling_rate_limit  = 500
  }
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = module.api_function.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.api.execution_arn}/*"
}

resource "aws_acm_certificate" "api" {
  domain_name       = local.s.api_domain
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  # Keyed by the configured name, so the set of records is known at plan time
  # even before ACM has said what the records contain.
  validation_options = {
    for name in [local.s.api_domain] : name => one([
      for option in aws_acm_certificate.api.domain_validation_options : option if option.domain_name == name
    ])
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = toset([local.s.api_domain])
  zone_id  = local.s.hosted_zone_id
  name     = local.validation_options[each.key].resource_record_name
  type     = local.validation_options[each.key].resource_record_type
  records  = [local.validation_options[each.key].resource_record_value]
  ttl      = 300
  # Every region's certificate for the same name asks for the same record.
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  certificate_arn         = aws_acm_certificate.api.arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

# Emulators cannot create custom domains (moto never reports one
# available); under `emulator` the latency record points at the API's own
# host name instead (routing.tf).
resource "aws_apigatewayv2_domain_name" "api" {
  count       = local.s.emulator ? 0 : 1
  domain_name = local.s.api_domain

  domain_name_configuration {
    certificate_arn = aws_acm_certificate_validation.api.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }
}

resource "aws_apigatewayv2_api_mapping" "api" {
  count       = local.s.emulator ? 0 : 1
  api_id      = aws_apigatewayv2_api.api.id
  domain_name = aws_apigatewayv2_domain_name.api[0].id
  stage       = aws_apigatewayv2_stage.default.id
}
