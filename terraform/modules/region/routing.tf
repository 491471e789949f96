# Latency routing with failover: Route 53 answers with the lowest-latency
# region whose health check passes, so when this region's /health fails,
# its record is withdrawn and clients go to the other region.

resource "aws_route53_health_check" "api" {
  # The region's own endpoint, not the shared name, so each check sees one region.
  fqdn              = replace(aws_apigatewayv2_api.api.api_endpoint, "https://", "")
  port              = 443
  type              = "HTTPS"
  resource_path     = "/health"
  failure_threshold = 3
  request_interval  = 30

  tags = {
    Name = "${local.s.name}-api-${local.region}"
  }
}

resource "aws_route53_record" "api_latency" {
  zone_id        = local.s.hosted_zone_id
  name           = local.s.api_domain
  type           = local.s.emulator ? "CNAME" : "A"
  set_identifier = local.region

  latency_routing_policy {
    region = local.region
  }

  health_check_id = aws_route53_health_check.api.id

  # Under an emulator there is no custom domain to alias: a plain CNAME to
  # the region's API host keeps the latency routing and health check.
  ttl     = local.s.emulator ? 60 : null
  records = local.s.emulator ? [replace(aws_apigatewayv2_api.api.api_endpoint, "https://", "")] : null

  dynamic "alias" {
    for_each = aws_apigatewayv2_domain_name.api
    content {
      name                   = alias.value.domain_name_configuration[0].target_domain_name
      zone_id                = alias.value.domain_name_configuration[0].hosted_zone_id
      evaluate_target_health = true
    }
  }
}
