variable "settings" {
  description = "The deployment's settings, the same for every region."
  type = object({
    name                       = string
    table_names                = map(string)
    allowed_origins            = list(string)
    trusted_proxy_hops         = number
    api_lambda_zip             = string
    lambda_architecture        = string
    api_memory_mb              = number
    api_reserved_concurrency   = number
    api_domain                 = string
    hosted_zone_id             = string
    log_retention_days         = number
    photo_lambda_zip           = string
    photo_memory_mb            = number
    photo_reserved_concurrency = number
    job_max_receives           = number
    emulator                   = bool
    alarm_topic_arn            = string
  })
}
