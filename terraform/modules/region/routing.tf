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
  type           = "A"
  set_identifier = local.region

  latency_routing_policy {
    region = local.region
  }

  health_check_id = aws_route53_health_check.api.id

  alias {
    name                   = aws_apigatewayv2_domain_name.api.domain_name_configuration[0].target_domain_name
    zone_id                = aws_apigatewayv2_domain_name.api.domain_name_configuration[0].hosted_zone_id
    evaluate_target_health = true
  }
}
