variable "name" {
  description = "The function's name, also its log group's."
  type        = string
}

variable "region" {
  description = "The region, part of the role's (global) name."
  type        = string
}

variable "zip" {
  description = "The package: a zip holding the `bootstrap` executable."
  type        = string
}

variable "architecture" {
  description = "x86_64 or arm64, as the package was built."
  type        = string
}

variable "memory_mb" {
  type = number
}

variable "timeout_secs" {
  type = number
}

variable "reserved_concurrency" {
  type = number
}

variable "log_retention_days" {
  type = number
}

variable "environment" {
  description = "The function's environment variables."
  type        = map(string)
}

variable "statements" {
  description = "The role's policy statements, beside writing its own logs (added here)."
  type = list(object({
    Sid      = string
    Effect   = string
    Action   = list(string)
    Resource = list(string)
  }))
}

variable "json_logs" {
  description = "Log lines as JSON (Lambda's logging_config); off under an emulator that does not keep the setting."
  type        = bool
  default     = true
}
