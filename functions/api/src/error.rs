//! The one place where failures become HTTP answers: every error leaves as
//! `application/problem+json` (RFC 9457) with the right status code.

use std::any::Any;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use millions_core::auth::AuthError;
use millions_core::photos::PhotoError;
use millions_core::preconditions::etag;
use millions_core::problem::PROBLEM_JSON;
use millions_core::users::UserError;
use millions_core::{Problem, StoreError};

/// An error answer: a problem document plus the headers some statuses need
/// (the current `ETag` with 412, `Retry-After` with 429 and 503).
#[derive(Debug)]
pub struct ApiError {
    // Boxed: errors travel in `Result`s on every handler's happy path.
    problem: Box<Problem>,
    etag: Option<String>,
    retry_after_secs: Option<u64>,
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        let retry_after_secs = (problem.status == 503).then_some(1);
        Self {
            problem: Box::new(problem),
            etag: None,
            retry_after_secs,
        }
    }
}

/// The answer to a store failure: 503 when it did not answer (worth a retry),
/// 500 for an outcome the service should have handled (a bug, logged).
fn store_failure(error: &StoreError) -> ApiError {
    match error {
        StoreError::Unavailable(source) => {
            tracing::error!(error = %source, "data store unavailable");
            Problem::unavailable("the data store did not answer; try again shortly").into()
        }
        other => {
            tracing::error!(error = %other, "unexpected store outcome");
            Problem::internal().into()
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match &error {
            AuthError::Invalid(violations) => Problem::invalid_fields(violations.clone()).into(),
            AuthError::EmailTaken(_) => {
                Problem::conflict(format!("{error}; log in with it instead")).into()
            }
            AuthError::WrongCredentials => Problem::unauthorized(error.to_string()).into(),
            AuthError::TooManyAttempts { retry_after_secs } => Self {
                retry_after_secs: Some(*retry_after_secs),
                ..Problem::too_many_requests(error.to_string()).into()
            },
            AuthError::Store(store) => store_failure(store),
            AuthError::Hashing(hashing) => {
                tracing::error!(error = %hashing, "password hashing failed");
                Problem::internal().into()
            }
        }
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match &error {
            UserError::NotFound(id) => Problem::not_found(format!("there is no user {id}")).into(),
            UserError::PreconditionFailed { current, .. } => Self {
                etag: Some(etag(*current)),
                ..Problem::precondition_failed(format!(
                    "{error}; read it again and retry with If-Match: {}",
                    etag(*current)
                ))
                .into()
            },
            UserError::Forbidden { .. } => Problem::forbidden(error.to_string()).into(),
            UserError::Invalid(violations) => Problem::invalid_fields(violations.clone()).into(),
            UserError::Contended(_) => Problem::conflict(error.to_string()).into(),
            UserError::Store(store) => store_failure(store),
        }
    }
}

impl From<PhotoError> for ApiError {
    fn from(error: PhotoError) -> Self {
        match &error {
            PhotoError::Invalid(violations) => Problem::invalid_fields(violations.clone()).into(),
            PhotoError::PhotoNotFound => Problem::not_found(format!(
                "{error}; PUT the file to the upload URL from POST /photos first"
            ))
            .into(),
            PhotoError::Unreadable(_) => {
                Problem::invalid_fields(vec![millions_core::Violation::new("", error.to_string())])
                    .into()
            }
            PhotoError::JobNotFound | PhotoError::OutputNotFound => {
                Problem::not_found(error.to_string()).into()
            }
            PhotoError::Store(store) => store_failure(store),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = problem_response(&self.problem);
        if let Some(tag) = self.etag.and_then(|tag| HeaderValue::from_str(&tag).ok()) {
            response.headers_mut().insert(header::ETAG, tag);
        }
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.problem.status == 401 {
            // RFC 9110 §11.6.1: a 401 names the scheme that would work.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="millions""#),
            );
        }
        response
    }
}

fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).expect("a problem always serializes");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, PROBLEM_JSON)
        .body(Body::from(body))
        .expect("static headers are valid")
}

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    Problem::not_found(format!("nothing is served at {}", uri.path()))
        .with_instance(uri.path())
        .into()
}

pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    Problem::method_not_allowed(format!("{method} is not supported on {}", uri.path()))
        .with_instance(uri.path())
        .into()
}

pub fn panic_to_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    problem_response(&Problem::internal())
}

/// Logs every 5xx answer with what a person needs to find it again: method,
/// path, status and the request id the client also received.
pub async fn log_server_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Clones of shared buffers, not copies: this runs on every request.
    let method = request.method().clone();
    let uri = request.uri().clone();
    let request_id = request.headers().get("x-request-id").cloned();
    let response = next.run(request).await;
    if response.status().is_server_error() {
        tracing::error!(
            %method,
            path = uri.path(),
            status = response.status().as_u16(),
            request_id = request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("-"),
            "request failed"
        );
    }
    response
}
