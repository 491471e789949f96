//! Local-only routes of the photo pipeline: the upload endpoint that stands
//! in for S3's presigned `PUT`, and a look at the job queue.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use millions_api::ApiError;
use millions_core::photos::{JobQueue, MAX_UPLOAD_BYTES};
use millions_core::{Problem, Violation};
use millions_infra::local::{LocalBlobs, UploadAcceptError, UploadGrant, UploadRefusal};

use crate::workers::PoolGauge;

#[derive(Clone)]
struct Photos {
    blobs: Option<LocalBlobs>,
    queue: Arc<dyn JobQueue>,
    gauge: Arc<PoolGauge>,
}

/// `PUT /_local/uploads/{key}` (local backend only) and `GET /_local/queue`.
pub fn routes(
    blobs: Option<LocalBlobs>,
    queue: Arc<dyn JobQueue>,
    gauge: Arc<PoolGauge>,
) -> Router {
    Router::new()
        .route(
            "/_local/uploads/{*key}",
            // One byte over the limit, so an oversized body is read far
            // enough to be refused for its length rather than cut.
            put(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES as usize + 1)),
        )
        .route("/_local/queue", get(queue_status))
        .with_state(Photos {
            blobs,
            queue,
            gauge,
        })
}

async fn upload(
    State(photos): State<Photos>,
    Path(key): Path<String>,
    grant: Result<Query<UploadGrant>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(blobs) = photos.blobs else {
        return Err(Problem::not_found("uploads go to S3 with the aws backend").into());
    };
    let Query(grant) = grant.map_err(|_| {
        Problem::invalid_fields(vec![Violation::new("", "the upload URL lacks its type, bytes, expires or signature; use it exactly as POST /photos gave it")])
    })?;
    let body = body.map_err(|_| Problem::too_large(MAX_UPLOAD_BYTES as usize))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    match blobs
        .accept_upload(&key, &grant, content_type, body.to_vec())
        .await
    {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(UploadAcceptError::Refused(refusal)) => Err(match refusal {
            UploadRefusal::BadSignature | UploadRefusal::Expired => {
                Problem::forbidden(refusal.to_string())
            }
            UploadRefusal::WrongType { .. } => Problem::unsupported_media_type(refusal.to_string()),
            UploadRefusal::WrongLength { .. } => {
                Problem::invalid_fields(vec![Violation::new("", refusal.to_string())])
            }
            UploadRefusal::BadKey => Problem::not_found(refusal.to_string()),
        }
        .into()),
        Err(UploadAcceptError::Store(error)) => {
            tracing::error!(%error, "storing an upload failed");
            Err(Problem::unavailable("the upload could not be stored; try again").into())
        }
    }
}

async fn queue_status(State(photos): State<Photos>) -> Result<Response, ApiError> {
    let unavailable = |error: millions_core::StoreError| -> ApiError {
        tracing::error!(%error, "reading the job queue failed");
        Problem::unavailable("the job queue did not answer").into()
    };
    let backlog = photos.queue.backlog().await.map_err(unavailable)?;
    let dead_letters = photos.queue.dead_letters().await.map_err(unavailable)?;
    Ok(Json(serde_json::json!({
        "backlog": backlog,
        "workers": photos.gauge.workers.load(Ordering::SeqCst),
        "busy": photos.gauge.busy.load(Ordering::SeqCst),
        "deadLetters": dead_letters,
    }))
    .into_response())
}
