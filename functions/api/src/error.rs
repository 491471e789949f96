//! The one place where failures become HTTP answers: every error leaves as
//! `application/problem+json` (RFC 9457) with the right status code.
//!
//! A server error is logged once, by [`log_server_errors`], with the request
//! id and the cause: turning an error into a response logs nothing, it puts
//! the cause (never shown to the client) in the response's extensions for
//! that one layer to read.

use std::any::Any;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use millions_core::auth::AuthError;
use millions_core::photos::PhotoError;
use millions_core::preconditions::etag;
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
    /// Why the server failed, for the log line of a 5xx.
    cause: Option<String>,
}

/// The cause of a server error, from the error to the one layer that logs it.
#[derive(Debug, Clone)]
pub struct ServerFault(pub String);

/// `error` and its sources, outermost first: "a: b: c". A source whose text
/// its outer error already ends with (`#[error("…: {0}")]`) is not repeated.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !chain.ends_with(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = inner.source();
    }
    chain
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        let retry_after_secs = (problem.status == 503).then_some(1);
        Self {
            problem: Box::new(problem),
            etag: None,
            retry_after_secs,
            cause: None,
        }
    }
}

impl ApiError {
    fn caused_by(self, error: &dyn std::error::Error) -> Self {
        Self {
            cause: Some(cause_chain(error)),
            ..self
        }
    }
}

/// How long a client is asked to wait after the store failed to answer.
const STORE_RETRY_AFTER_SECS: u64 = 1;

/// The answer to a store failure: 503 when it did not answer (worth a retry),
/// 500 for an outcome the service should have handled (a bug).
fn store_failure(error: &StoreError) -> ApiError {
    let answer: ApiError = match error {
        // The store's clients have retried within their budget already
        // (`millions_infra::aws::clients`): the client may try again soon.
        StoreError::Unavailable(_) => ApiError {
            retry_after_secs: Some(STORE_RETRY_AFTER_SECS),
            ..Problem::unavailable("the data store did not answer; try again shortly").into()
        },
        _ => Problem::internal().into(),
    };
    answer.caused_by(error)
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
            AuthError::Hashing(_) => ApiError::from(Problem::internal()).caused_by(&error),
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
            UserError::Forbidden { .. } | UserError::ForbiddenLike { .. } => {
                Problem::forbidden(error.to_string()).into()
            }
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
        let mut response: Response = self.problem.to_response();
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
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ServerFault(cause));
        }
        response
    }
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
    let mut response: Response = Problem::internal().to_response();
    response
        .extensions_mut()
        .insert(ServerFault(format!("the handler panicked: {message}")));
    response
}

/// Logs every 5xx answer, once, with what a person needs to find it again
/// and understand it: method, path, status, the request id the client also
/// received, and the cause with its chain of sources.
pub async fn log_server_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Clones of shared buffers, not copies: this runs on every request.
    let method = request.method().clone();
    let uri = request.uri().clone();
    let request_id = request.headers().get("x-request-id").cloned();
    let trace = request
        .extensions()
        .get::<millions_core::trace::TraceParent>()
        .copied();
    let response = next.run(request).await;
    if response.status().is_server_error() {
        tracing::error!(
            %method,
            path = uri.path(),
            status = response.status().as_u16(),
            request_id = request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("-"),
            trace_id = trace.map(|trace| trace.trace_id()).unwrap_or_default(),
            cause = response.extensions().get::<ServerFault>().map_or("-", |fault| fault.0.as_str()),
            "request failed"
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use millions_core::{Consistency, StoredUser, UserId, Users, Version};
    use tower::ServiceExt;

    use super::*;

    /// A users table whose store never answers.
    struct Unreachable;

    fn refused() -> StoreError {
        let reset =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        StoreError::unavailable(std::io::Error::other(CausedBy("dispatch failure", reset)))
    }

    /// An error with a source, as the SDKs' are.
    #[derive(Debug)]
    struct CausedBy(&'static str, std::io::Error);

    impl std::fmt::Display for CausedBy {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for CausedBy {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.1)
        }
    }

    #[async_trait::async_trait]
    impl Users for Unreachable {
        async fn insert(&self, _: &StoredUser) -> Result<(), StoreError> {
            Err(refused())
        }
        async fn get(&self, _: UserId, _: Consistency) -> Result<Option<StoredUser>, StoreError> {
            Err(refused())
        }
        async fn replace(&self, _: &StoredUser, _: Version) -> Result<(), StoreError> {
            Err(refused())
        }
        async fn delete(&self, _: &StoredUser) -> Result<(), StoreError> {
            Err(refused())
        }
    }

    /// Log output, one JSON object per line.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_server_error_is_logged_once_with_its_request_id_and_cause() {
        let (stores, _dir) = millions_infra::local::EmbeddedStores::temporary().unwrap();
        let mut ports = stores.ports();
        ports.users = Arc::new(Unreachable);
        let app = crate::router(crate::ApiState::new(ports, 1, crate::Settings::default()));

        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let response = app
            .oneshot(
                axum::http::Request::get("/users/12")
                    .header("x-request-id", "request-under-test")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("connection refused"),
            "the cause stays in the log: {body}"
        );

        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let errors: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .filter(|event: &serde_json::Value| event["level"] == "ERROR")
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "one ERROR line per failed request:\n{text}"
        );
        let fields = &errors[0]["fields"];
        assert_eq!(fields["request_id"], "request-under-test");
        assert_eq!(fields["status"], 503);
        assert_eq!(
            fields["cause"],
            "the data store is unavailable: dispatch failure: connection refused"
        );
    }
}
