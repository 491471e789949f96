//! The AWS clients, each with its retry and timeout budget set on purpose
//! rather than left to the SDK's defaults (which let one DynamoDB call wait
//! for a slow endpoint with no end, and back off for up to 20 s).
//!
//! The API answers within API Gateway's 30 s and its own 10 s Lambda
//! timeout, and a request makes a few store calls, so each store call must
//! end in a few seconds whatever the service does: then the request fails
//! with 503 and `Retry-After` (what a throttled or unreachable store means
//! to a client), instead of hanging until the function is killed.
//!
//! | client | attempts | first backoff | attempt timeout | call timeout |
//! |---|---:|---:|---:|---:|
//! | DynamoDB | 3 | 25 ms | 2 s | 5 s |
//! | SQS | 3 | 25 ms | 2 s | 5 s |
//! | SQS long poll (`receive`) | 3 | 25 ms | 25 s | 60 s |
//! | S3 | 3 | 100 ms | 30 s | 60 s |
//!
//! An attempt that times out is not retried (it may have been applied),
//! and fails the call at once. DynamoDB answers in milliseconds; 2 s is for
//! its rare slow partitions, not for queues of requests.
//!
//! Retries are the SDK's standard mode: exponential backoff with full
//! jitter, on throttling (`ProvisionedThroughputExceeded`,
//! `ThrottlingException`, `SlowDown`), 5xx and connection failures, within a
//! client-side token bucket that stops retrying when most calls fail.
//! Connecting may take 1 s. S3 carries photos of up to 25 MiB, hence its
//! longer attempts.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;

fn retries(first_backoff: Duration) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(first_backoff)
        .with_max_backoff(Duration::from_secs(1))
}

fn timeouts(attempt: Duration, call: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(attempt)
        .operation_timeout(call)
        .build()
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(config)
            .retry_config(retries(Duration::from_millis(25)))
            .timeout_config(timeouts(Duration::from_secs(2), Duration::from_secs(5)))
            .build(),
    )
}

pub fn sqs(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(config)
            .retry_config(retries(Duration::from_millis(25)))
            .timeout_config(timeouts(Duration::from_secs(2), Duration::from_secs(5)))
            .build(),
    )
}

/// The budget of a long poll, which waits up to 20 s for a message by design.
pub fn sqs_long_poll() -> aws_sdk_sqs::config::Builder {
    aws_sdk_sqs::config::Builder::default()
        .timeout_config(timeouts(Duration::from_secs(25), Duration::from_secs(60)))
}

/// Path-style addressing when an endpoint is overridden (an emulator has no
/// per-bucket host names); virtual-hosted style on AWS.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .retry_config(retries(Duration::from_millis(100)))
            .timeout_config(timeouts(Duration::from_secs(30), Duration::from_secs(60)))
            .build(),
    )
}
