output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "arn" {
  value = aws_lambda_function.this.arn
}

output "invoke_arn" {
  value = aws_lambda_function.this.invoke_arn
}

output "timeout_secs" {
  value = aws_lambda_function.this.timeout
}

output "policy" {
  description = "The role's permissions, as JSON."
  value       = aws_iam_role_policy.this.policy
}

output "log_format" {
  description = "JSON or Text, as Lambda formats the function's log lines."
  value       = one(aws_lambda_function.this.logging_config[*].log_format)
}
