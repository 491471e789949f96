//! The ports on AWS, through the official `aws-sdk-*` crates.
//!
//! Clients are built from the standard AWS configuration chain, so
//! `AWS_ENDPOINT_URL` points them at an emulator (moto) in tests and locally.

pub mod clients;
mod dynamodb_jobs;
mod dynamodb_likes;
mod dynamodb_rate_limits;
mod dynamodb_sessions;
mod dynamodb_sketches;
mod dynamodb_users;
pub mod emf;
mod item;
mod ports;
mod s3_blobs;
mod sqs_queue;
mod tables;
mod transactions;

pub use dynamodb_jobs::DynamoJobs;
pub use dynamodb_likes::DynamoLikes;
pub use dynamodb_rate_limits::DynamoRateLimits;
pub use dynamodb_sessions::DynamoSessions;
pub use dynamodb_sketches::DynamoSketches;
pub use dynamodb_users::DynamoUsers;
pub use ports::{Deployment, MissingSetting};
pub use s3_blobs::S3Blobs;
pub use sqs_queue::{create_queues_if_missing, find_queues, QueueNames, SqsQueue};
pub use tables::{
    create_tables_if_missing, MissingTableName, TableNames, COUNTERS_KEY, EXPIRES_AT, JOBS_KEY,
    LIKES_KEY, LIKES_SORT_KEY, LOGINS_KEY, SESSIONS_KEY, SKETCHES_KEY, USERS_KEY,
};

/// Loads the AWS configuration from the environment (region, credentials,
/// endpoint override) the way every AWS SDK does.
pub async fn load_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
