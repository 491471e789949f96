variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "millions"
}

variable "primary_region" {
  description = "The first AWS region; it holds the tables' source replica."
  type        = string
  default     = "us-east-1"
}

variable "secondary_region" {
  description = "The second AWS region; traffic fails over to it when the first is unhealthy."
  type        = string
  default     = "eu-west-1"
}

variable "api_lambda_zip" {
  description = "Path of the API function's package, as written by `cargo lambda build --release --output-format zip -p api-lambda`."
  type        = string
  default     = "../target/lambda/api-lambda/bootstrap.zip"
}

variable "lambda_architecture" {
  description = "x86_64 or arm64; must match the target the package was built for."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "The lambda_architecture is x86_64 or arm64."
  }
}

variable "api_memory_mb" {
  description = "Memory of the API function; its CPU share grows with it."
  type        = number
  default     = 256
}

variable "api_reserved_concurrency" {
  description = "Most concurrent API instances per region: bounds the load on the tables and the bill when a client runs away."
  type        = number
  default     = 100
}

variable "api_domain" {
  description = "DNS name of the API origin, in the hosted zone below; each region serves it, Route 53 picks the nearest healthy one."
  type        = string
}

variable "hosted_zone_id" {
  description = "Route 53 hosted zone that holds api_domain."
  type        = string
}

variable "log_retention_days" {
  description = "How long function logs are kept."
  type        = number
  default     = 30
}

variable "allowed_origins" {
  description = "Origins (e.g. the CDN domain, https://millions.example.com) whose pages may send cookie-authenticated writes to the API."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for origin in var.allowed_origins : can(regex("^https?://[^/]+$", origin))])
    error_message = "Each allowed origin is scheme://host[:port], with no path."
  }
}

variable "trusted_proxy_hops" {
  description = "Proxies in front of API Gateway that append the client to X-Forwarded-For (1 when the edge worker forwards to the API). Used for per-client login limits."
  type        = number
  default     = 0
}

variable "deploy_edge" {
  description = "Deploy the Cloudflare Worker with wrangler (needs CLOUDFLARE_API_TOKEN in the environment); false for AWS-only deployments."
  type        = bool
  default     = true
}

variable "edge_environment" {
  description = "The wrangler.toml environment the Worker is deployed as (staging, production)."
  type        = string
  default     = "production"
}

variable "primary_continents" {
  description = "Continent codes whose clients the edge sends to the primary region first."
  type        = list(string)
  default     = ["NA", "SA"]
}

variable "secondary_continents" {
  description = "Continent codes whose clients the edge sends to the secondary region first."
  type        = list(string)
  default     = ["EU", "AF", "AS", "OC"]
}

variable "emulator" {
  description = "true when applying against an AWS emulator (moto, through AWS_ENDPOINT_URL): turns off what emulators cannot create (DynamoDB replica blocks, the dead-letter queue's redrive allow policy) and the provider's account checks."
  type        = bool
  default     = false
}

variable "photo_lambda_zip" {
  description = "Path of the photo-processing function's package, as written by `cargo lambda build --release --output-format zip -p photo-lambda`."
  type        = string
  default     = "../target/lambda/photo-lambda/bootstrap.zip"
}

variable "photo_memory_mb" {
  description = "Memory of the photo function: a 50-megapixel original needs about 600 MiB decoded, and CPU grows with memory."
  type        = number
  default     = 2048
}

variable "photo_reserved_concurrency" {
  description = "Most concurrent photo workers per region: the queue absorbs bursts beyond it."
  type        = number
  default     = 20
}

variable "job_max_receives" {
  description = "Deliveries of a job message before it moves to the dead-letter queue."
  type        = number
  default     = 3
}

variable "alarm_topic_arn" {
  description = "SNS topic (in each region's account) that alarms notify; empty for no notifications."
  type        = string
  default     = ""
}

variable "cdn_domain" {
  description = "The domain users reach the product on (e.g. millions.example.com), in a Cloudflare zone of the account; the Worker is deployed to it as a custom domain. Empty: the Worker's workers.dev address."
  type        = string
  default     = ""
}

variable "cloudflare_zone_id" {
  description = "The id of the Cloudflare zone cdn_domain is in. Set, a write through the edge purges its stale entries in every Cloudflare data centre (the purge-by-URL API, with the token in CLOUDFLARE_PURGE_TOKEN held as the Worker secret PURGE_TOKEN); empty, only in the data centre that took the write, the others keeping theirs until they expire."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{32})?$", var.cloudflare_zone_id))
    error_message = "cloudflare_zone_id is the zone's 32-character hexadecimal id (the dashboard's zone overview shows it), or empty."
  }
}
