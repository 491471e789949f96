//! `/photos` and `/jobs`: upload slots, job submission and status,
//! and the processed images.
//!
//! Nothing here touches pixels or waits for processing: a job is validated,
//! recorded and queued, and the answer is `202 Accepted` with the URL to
//! poll. Outputs are served under their content hash, so they are immutable
//! and the edge may keep them for a year.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use millions_core::photos::{Job, JobId, JobState, JobStatus, OutputRole, PhotoId};
use millions_core::preconditions::if_none_match_names;
use millions_core::Problem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::credentials::CurrentSession;
use crate::error::ApiError;
use crate::extract::{IfNoneMatchHeader, JsonBody};
use crate::ApiState;
use axum::Extension;
use millions_core::trace::TraceParent;

/// How long browsers and the edge may keep an output: it never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/photos", post(new_upload))
        .route("/photos/{id}/jobs", post(submit_job))
        .route("/jobs/{id}", get(job_status))
        .route("/photos/{name}", get(output))
}

/// The body of `POST /photos` (documentation only: the service parses it).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadRequest {
    /// image/jpeg, image/png or image/webp.
    #[schema(example = "image/jpeg", value_type = UploadType)]
    content_type: String,
    /// The file's exact size, at most 25 MiB.
    #[schema(example = 2_345_678, minimum = 1, maximum = 26_214_400)]
    bytes: u64,
}

/// The types a photo may be uploaded as (documentation only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum UploadType {
    #[schema(rename = "image/jpeg")]
    Jpeg,
    #[schema(rename = "image/png")]
    Png,
    #[schema(rename = "image/webp")]
    Webp,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadAnswer {
    photo_id: PhotoId,
    upload: millions_core::photos::UploadSlot,
    jobs_url: String,
}

/// `POST /photos` `{"contentType": "image/jpeg", "bytes": 2345678}`: a signed
/// URL to `PUT` exactly that file to, valid for 15 minutes.
#[utoipa::path(
    post, path = "/photos", tag = "photos",
    request_body(content = UploadRequest, content_type = "application/json"),
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "PUT the file to `upload.url` with `upload.headers`; the signature covers the type and the exact length", body = UploadAnswer),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unsupported type or a size out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn new_upload(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let upload = state
        .services
        .photos
        .new_upload(caller.session.user_id, body)
        .await?;
    let answer = UploadAnswer {
        photo_id: upload.photo,
        jobs_url: format!("/photos/{}/jobs", upload.photo),
        upload: upload.slot,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

fn photo_id(text: &str) -> Result<PhotoId, ApiError> {
    text.parse()
        .map_err(|error| Problem::bad_path(format!("{error}")).into())
}

fn job_id(text: &str) -> Result<JobId, ApiError> {
    text.parse()
        .map_err(|error| Problem::bad_path(format!("{error}")).into())
}

/// The answer to a job submission.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobAccepted {
    job_id: JobId,
    status: JobStatus,
    status_url: String,
    /// The size of the result image.
    result: millions_core::photos::Dimensions,
}

/// `POST /photos/{id}/jobs`: validates the operations against the uploaded
/// photo and queues one job.
#[utoipa::path(
    post, path = "/photos/{id}/jobs", tag = "photos",
    params(("id" = String, Path, pattern = "^[0-9a-f]{32}$", description = "The photo's id, from POST /photos")),
    request_body(content = millions_core::photos::JobSpec, content_type = "application/json"),
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 202, description = "Queued; poll `Location`", body = JobAccepted, headers(("Location" = String))),
        (status = 400, description = "Not a photo id, or not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such photo of this user has been uploaded", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An operation is out of bounds (a crop outside the image, a sigma too large, ...), each with a JSON Pointer", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The queue did not take the job; nothing was queued", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_job(
    State(state): State<Arc<ApiState>>,
    trace: Option<Extension<TraceParent>>,
    caller: CurrentSession,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let photo = photo_id(&id)?;
    let submitted = state
        .services
        .photos
        .submit(
            caller.session.user_id,
            photo,
            body,
            trace.as_ref().map(|Extension(trace)| trace),
        )
        .await?;
    let status_url = format!("/jobs/{}", submitted.job.id);
    let answer = JobAccepted {
        job_id: submitted.job.id,
        status: JobStatus::Queued,
        status_url: status_url.clone(),
        result: submitted.result,
    };
    let mut response = (StatusCode::ACCEPTED, Json(answer)).into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&status_url).expect("ids are ASCII"),
    );
    Ok(response)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutputView {
    role: OutputRole,
    url: String,
    width: u32,
    height: u32,
    bytes: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    job_id: JobId,
    photo_id: PhotoId,
    status: JobStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    attempts: u32,
    outputs: Vec<OutputView>,
}

fn job_view(job: Job, now_ms: u64) -> JobView {
    let (status, reason) = job.status(now_ms);
    let outputs = match job.state {
        JobState::Done { outputs } => outputs
            .into_iter()
            .map(|output| OutputView {
                role: output.role,
                url: output_url(&output.key),
                width: output.width,
                height: output.height,
                bytes: output.bytes,
            })
            .collect(),
        _ => Vec::new(),
    };
    JobView {
        job_id: job.id,
        photo_id: job.photo,
        status,
        reason,
        attempts: job.attempts,
        outputs,
    }
}

/// `GET /jobs/{id}`: queued, running, done (with output URLs) or failed
/// (with the reason). Only the job's owner sees it.
#[utoipa::path(
    get, path = "/jobs/{id}", tag = "photos",
    params(("id" = String, Path, pattern = "^[0-9a-f]{32}$", description = "The job's id")),
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, body = JobView),
        (status = 400, description = "Not a job id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job of this user", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn job_status(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = job_id(&id)?;
    let photos = &state.services.photos;
    let job = photos.job(caller.session.user_id, id).await?;
    let mut response = Json(job_view(job, photos.now_ms())).into_response();
    // Changes while it runs, and belongs to one user.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// Where an output is served: `/photos/{sha256}.{ext}`, the shape the edge
/// caches as immutable.
fn output_url(key: &millions_core::photos::BlobKey) -> String {
    format!("/photos/{}", key.as_str().trim_start_matches("outputs/"))
}

/// `GET /photos/{sha256}.{ext}`: a processed image, immutable.
#[utoipa::path(
    get, path = "/photos/{name}", tag = "photos",
    params(("name" = String, Path, description = "`{sha256}.{jpg|png|webp}`, from a done job's outputs")),
    responses(
        (status = 200, description = "The image, `Cache-Control: public, max-age=31536000, immutable`", content_type = "image/*", headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such output", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn output(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    IfNoneMatchHeader(if_none_match): IfNoneMatchHeader,
) -> Result<Response, ApiError> {
    let hash = name.split('.').next().unwrap_or_default();
    let tag = format!("\"{hash}\"");
    let (key, blob) = state
        .services
        .photos
        .output(&format!("outputs/{name}"))
        .await?;
    let headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        (
            header::ETAG,
            HeaderValue::from_str(&tag).expect("hashes are ASCII"),
        ),
    ];
    let names_this = if_none_match
        .as_deref()
        .is_some_and(|value| if_none_match_names(value, &tag));
    if names_this {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let content_type = key
        .media_type()
        .map_or("application/octet-stream", |media| media.content_type());
    Ok((
        headers,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        blob.bytes,
    )
        .into_response())
}
