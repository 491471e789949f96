//! `GET /health`: the probe Route 53 health checks and load balancers call.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::ApiState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the instance can serve requests.
    #[schema(example = "ok")]
    status: &'static str,
}

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new().route("/health", get(health))
}

/// Reports that this instance is up.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}
