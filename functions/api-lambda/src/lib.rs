//! The API as an AWS Lambda function behind API Gateway (HTTP API, payload
//! format 2.0).
//!
//! This crate only wires configuration to adapters: the router is
//! `millions_api`'s, the stores are the DynamoDB adapters from `millions_infra`.
//!
//! Environment (set by Terraform):
//! - `USERS_TABLE`, `LOGINS_TABLE`, `SESSIONS_TABLE`, `RATE_LIMITS_TABLE`,
//!   `JOBS_TABLE`, `LIKES_TABLE`, `ACTIVITY_TABLE`: table names;
//! - `PHOTOS_BUCKET`, `JOBS_QUEUE_URL`, `JOBS_DLQ_URL`: the photo bucket and
//!   the job queue with its dead-letter queue;
//! - `ALLOWED_ORIGINS`: comma-separated origins (the CDN domain) whose pages
//!   may send cookie-authenticated writes;
//! - `TRUSTED_PROXY_HOPS`: proxies in front of API Gateway that append to
//!   `X-Forwarded-For` (1 behind the edge; default 0);
//! - `SESSION_IDLE_SECS`, `SESSION_MAX_SECS`: optional session lifetimes.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_config::SdkConfig;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use millions_api::{ApiState, PeerAddress, Settings, WebSettings, XRayTrace};
use millions_core::auth::AuthSettings;
use millions_core::Clock;
use millions_infra::aws::{emf, Deployment, MissingSetting};
use millions_infra::metrics_cloudwatch_embedded::Collector;
use millions_infra::{random_node_id, SystemClock};

/// The function's configuration is incomplete or unreadable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingSetting),
    #[error("the environment variable {name} is `{value}`, not a whole number")]
    NotANumber { name: &'static str, value: String },
}

/// The router on the given deployment's tables, bucket and queue.
pub fn app(config: &SdkConfig, deployment: &Deployment, settings: Settings) -> Router {
    let ports = deployment.ports(config, Arc::new(SystemClock));
    let state = ApiState::new(ports, random_node_id(), settings);
    millions_api::router(Arc::clone(&state))
        .layer(axum::middleware::map_request(record_platform_context))
        .layer(axum::middleware::from_fn_with_state(
            state,
            merge_activity_when_due,
        ))
}

/// Where [`with_metrics`] writes the metrics of each invocation: stdout in
/// a function, a buffer in a test.
pub type MetricsOut = fn() -> Box<dyn std::io::Write + Send>;

/// `app` writing, after each invocation, what it recorded as CloudWatch EMF
/// documents to `out` (see `millions_infra::aws::emf`).
pub fn with_metrics(app: Router, collector: &'static Collector, out: MetricsOut) -> Router {
    app.layer(axum::middleware::from_fn_with_state(
        (collector, out),
        flush_metrics,
    ))
}

async fn flush_metrics(
    State((collector, out)): State<(&'static Collector, MetricsOut)>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    emf::flush(collector, out());
    response
}

/// How often an instance merges the users it has seen into the day's
/// shared sketch, in milliseconds.
const ACTIVITY_FLUSH_MS: u64 = 10_000;

/// Lambda freezes an instance between invocations, so no timer of its own
/// can run: an invocation merges this instance's active users into the
/// store when the last merge is [`ACTIVITY_FLUSH_MS`] old, after its answer
/// is made and before the runtime sends it (one read and one write, every
/// ten seconds at most).
async fn merge_activity_when_due(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    static LAST_MERGE_MS: AtomicU64 = AtomicU64::new(0);
    let response = next.run(request).await;
    let now = SystemClock.now_ms();
    let last = LAST_MERGE_MS.load(Ordering::Relaxed);
    let due = now.saturating_sub(last) >= ACTIVITY_FLUSH_MS
        && LAST_MERGE_MS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
    if due {
        match state.services.activity.flush().await {
            // Written out with this invocation's other metrics.
            Ok(estimate) => metrics::gauge!("daily_active_users").set(estimate as f64),
            Err(error) => {
                tracing::warn!(%error, "merging today's active users failed; kept for the next merge")
            }
        }
    }
    response
}

/// Copies the caller's address from the API Gateway event, and the
/// invocation's X-Ray trace (Lambda's `_X_AMZN_TRACE_ID`, which the runtime
/// hands each invocation), to where the API looks for them.
async fn record_platform_context(mut request: Request) -> Request {
    let xray = request
        .lambda_context_ref()
        .and_then(|context| context.xray_trace_id.clone());
    if let Some(xray) = xray {
        request.extensions_mut().insert(XRayTrace(xray));
    }
    let source_ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| IpAddr::from_str(ip).ok()),
        _ => None,
    };
    if let Some(ip) = source_ip {
        request.extensions_mut().insert(PeerAddress(ip));
    }
    request
}

/// The settings the environment gives.
pub fn settings_from_env() -> Result<Settings, ConfigError> {
    let mut settings = Settings {
        auth: AuthSettings::default(),
        web: WebSettings {
            allowed_origins: std::env::var("ALLOWED_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            trusted_proxy_hops: 0,
            ..WebSettings::default()
        },
    };
    if let Some(hops) = number("TRUSTED_PROXY_HOPS")? {
        settings.web.trusted_proxy_hops = hops;
    }
    if let Some(secs) = number("SESSION_IDLE_SECS")? {
        settings.auth.sessions.idle_secs = secs;
    }
    if let Some(secs) = number("SESSION_MAX_SECS")? {
        settings.auth.sessions.absolute_secs = secs;
    }
    Ok(settings)
}

fn number<T: FromStr>(name: &'static str) -> Result<Option<T>, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::NotANumber { name, value }),
    }
}

/// The router configured from the function's environment.
pub async fn app_from_env() -> Result<Router, ConfigError> {
    let deployment = Deployment::from_env()?;
    let settings = settings_from_env()?;
    Ok(app(
        &millions_infra::aws::load_config().await,
        &deployment,
        settings,
    ))
}
