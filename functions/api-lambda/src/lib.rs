//! The API as an AWS Lambda function behind API Gateway (HTTP API, payload
//! format 2.0).
//!
//! This crate only wires configuration to adapters: the router is
//! `millions_api`'s, the store is the DynamoDB adapter from `millions_infra`.

use std::sync::Arc;

use aws_config::SdkConfig;
use axum::Router;
use millions_api::ApiState;
use millions_infra::aws::DynamoUsers;
use millions_infra::{random_node_id, SystemClock};

/// The environment variable naming the users table (set by Terraform).
pub const USERS_TABLE_VAR: &str = "USERS_TABLE";

/// The configuration is incomplete.
#[derive(Debug, thiserror::Error)]
#[error("the environment variable {0} must be set")]
pub struct MissingVariable(&'static str);

/// The router on the DynamoDB table `users_table`.
pub fn app(config: &SdkConfig, users_table: &str) -> Router {
    let users = DynamoUsers::new(aws_sdk_dynamodb::Client::new(config), users_table);
    millions_api::router(ApiState::new(
        Arc::new(users),
        Arc::new(SystemClock),
        random_node_id(),
    ))
}

/// The router configured from the function's environment.
pub async fn app_from_env() -> Result<Router, MissingVariable> {
    let table = std::env::var(USERS_TABLE_VAR).map_err(|_| MissingVariable(USERS_TABLE_VAR))?;
    Ok(app(&millions_infra::aws::load_config().await, &table))
}
