//! The ports on AWS, through the official `aws-sdk-*` crates.
//!
//! Clients are built from the standard AWS configuration chain, so
//! `AWS_ENDPOINT_URL` points them at an emulator (moto) in tests and locally.

mod dynamodb_users;
mod item;

pub use dynamodb_users::{DynamoUsers, USERS_PARTITION_KEY};

/// Loads the AWS configuration from the environment (region, credentials,
/// endpoint override) the way every AWS SDK does.
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
