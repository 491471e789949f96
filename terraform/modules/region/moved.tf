# Deployments made before the function module (modules/function) keep their
# resources: an upgrade's plan shows only these moves.

moved {
  from = aws_cloudwatch_log_group.api
  to   = module.api_function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.api
  to   = module.api_function.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.api
  to   = module.api_function.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.api
  to   = module.api_function.aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.photos
  to   = module.photo_function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.photos
  to   = module.photo_function.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.photos
  to   = module.photo_function.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.photos
  to   = module.photo_function.aws_lambda_function.this
}
