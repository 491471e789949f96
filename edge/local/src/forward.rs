//! Sending a request on to the origin regions, in the policy's order, moving
//! to the next region only when the request is idempotent.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use millions_edge_policy::origins::{may_retry_elsewhere, spread, Origins};
use std::sync::atomic::{AtomicUsize, Ordering};

/// An origin's answer, read in full.
pub struct OriginResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub region: String,
}

/// No origin produced an answer.
#[derive(Debug, thiserror::Error)]
#[error("no origin region answered: {0}")]
pub struct NoOrigin(pub String);

pub struct Forwarder {
    client: Client<HttpConnector, Body>,
    origins: Mutex<Origins>,
    continent: Option<String>,
    timeout: Duration,
    /// Spread requests over the origins (instances of one region) instead
    /// of preferring the first.
    balance: bool,
    turns: AtomicUsize,
}

/// Why one attempt at one origin failed.
enum AttemptError {
    /// The request never left: the connection could not be made.
    NotSent(String),
    /// The request may have reached the origin.
    Failed(String),
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

impl Forwarder {
    pub fn new(
        origins: Origins,
        continent: Option<String>,
        timeout: Duration,
        balance: bool,
    ) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            origins: Mutex::new(origins),
            continent,
            timeout,
            balance,
            turns: AtomicUsize::new(0),
        }
    }

    /// Sends the request to the best available origin; on a connection
    /// failure, timeout or 5xx, an idempotent request tries the next one.
    pub async fn send(
        &self,
        method: &Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<OriginResponse, NoOrigin> {
        let mut plan = self
            .origins()
            .plan(self.continent.as_deref(), crate::now_ms());
        if self.balance {
            plan = spread(plan, self.turns.fetch_add(1, Ordering::Relaxed));
        }
        let mut may_move_on = true;
        let mut last_error = String::from("no origins configured");
        for index in plan {
            if !may_move_on {
                break;
            }
            let (region, url) = {
                let origins = self.origins();
                let origin = origins.get(index);
                (origin.region.clone(), origin.url.clone())
            };
            match self
                .attempt(method, &url, path_and_query, headers, body.clone())
                .await
            {
                Ok(response) if !is_origin_failure(response.status) => {
                    self.origins().record_success(index);
                    return Ok(OriginResponse { region, ..response });
                }
                Ok(response) => {
                    self.origins().record_failure(index, crate::now_ms());
                    last_error = format!("{region} answered {}", response.status);
                    if !may_retry_elsewhere(method.as_str(), true) {
                        return Ok(OriginResponse { region, ..response });
                    }
                }
                Err(AttemptError::NotSent(error)) => {
                    self.origins().record_failure(index, crate::now_ms());
                    tracing::warn!(%region, %error, "origin refused the connection");
                    last_error = format!("{region}: {error}");
                }
                Err(AttemptError::Failed(error)) => {
                    self.origins().record_failure(index, crate::now_ms());
                    tracing::warn!(%region, %error, "origin attempt failed");
                    last_error = format!("{region}: {error}");
                    may_move_on = may_retry_elsewhere(method.as_str(), true);
                }
            }
        }
        Err(NoOrigin(last_error))
    }

    fn origins(&self) -> std::sync::MutexGuard<'_, Origins> {
        self.origins
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    async fn attempt(
        &self,
        method: &Method,
        base: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<OriginResponse, AttemptError> {
        use AttemptError::{Failed, NotSent};
        let uri: Uri = format!("{}{path_and_query}", base.trim_end_matches('/'))
            .parse()
            .map_err(|e| NotSent(format!("bad origin URL: {e}")))?;
        let mut request = Request::builder().method(method.clone()).uri(uri);
        for (name, value) in headers {
            if !is_hop_by_hop(name) {
                request = request.header(name, value);
            }
        }
        let request = request
            .body(Body::from(body))
            .map_err(|e| NotSent(e.to_string()))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| Failed(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| {
                if e.is_connect() {
                    NotSent(e.to_string())
                } else {
                    Failed(e.to_string())
                }
            })?;
        let (parts, body) = response.into_parts();
        let body = tokio::time::timeout(self.timeout, body.collect())
            .await
            .map_err(|_| Failed("the body did not arrive in time".to_owned()))?
            .map_err(|e| Failed(e.to_string()))?
            .to_bytes();
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        Ok(OriginResponse {
            status: parts.status,
            headers,
            body,
            region: String::new(),
        })
    }
}

/// Answers that mean the region is in trouble, not that the request is wrong.
fn is_origin_failure(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Drops connection-specific headers from an origin answer (the edge sets
/// its own framing when it answers).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    headers.remove(header::CONTENT_LENGTH);
}

/// Turns an origin answer into a response for the client.
pub fn to_response(status: StatusCode, headers: &HeaderMap, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    response
}
