//! `/_local/shards` (local backend only): the embedded store's shards, and
//! moving its keys to another shard count while it serves. `millions
//! reshard` is the client; `docs/resharding.md` is the runbook.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use millions_api::ApiError;
use millions_core::{Problem, ShardCount, Violation};
use millions_infra::local::{MoveRefusal, MoveStatus, Resharder};
use serde::Deserialize;

/// Where [`MoveStatus`] is read and a move is started.
pub const PATH: &str = "/_local/shards";

pub fn routes(resharder: Option<Resharder>) -> Router {
    Router::new()
        .route(PATH, get(status).post(start))
        .with_state(resharder)
}

/// What `POST /_local/shards` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    pub shards: serde_json::Value,
}

fn resharder(state: Option<Resharder>) -> Result<Resharder, ApiError> {
    state.ok_or_else(|| {
        Problem::not_found(
            "the aws backend has no local shards: DynamoDB partitions its tables itself",
        )
        .with_instance(PATH)
        .into()
    })
}

async fn status(State(state): State<Option<Resharder>>) -> Result<Json<MoveStatus>, ApiError> {
    Ok(Json(resharder(state)?.status()))
}

/// Starts a move to `shards` shards and answers 202 with its status (a move
/// to the same count already under way is left to run).
async fn start(
    State(state): State<Option<Resharder>>,
    body: Result<Json<MoveRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let resharder = resharder(state)?;
    let Json(request) = body
        .map_err(|rejection| Problem::malformed_body(rejection.body_text()).with_instance(PATH))?;
    let target = request
        .shards
        .as_u64()
        .and_then(|count| count.to_string().parse::<ShardCount>().ok())
        .ok_or_else(|| {
            Problem::invalid_fields(vec![Violation::new(
                "/shards",
                format!(
                    "the shard count is a whole number from 1 to {}",
                    ShardCount::MAX
                ),
            )])
            .with_instance(PATH)
        })?;
    resharder.start(target).map_err(|refusal| match refusal {
        MoveRefusal::Busy(_) => Problem::conflict(refusal.to_string()).with_instance(PATH),
    })?;
    Ok((StatusCode::ACCEPTED, Json(resharder.status())).into_response())
}
