//! `GET /_local/metrics`: the local stack's metrics in Prometheus text
//! format, for `curl`, a Prometheus scrape or the load test.
//!
//! The stack installs the `metrics` crate's Prometheus recorder for the
//! whole process, so what every API instance, worker and store records is
//! here: per-route requests and latencies (one histogram), sign-ups, logins (by outcome),
//! photo jobs (by outcome), and, read when scraped, the job queue's backlog,
//! the edge's answers by cache label (so its hit rate) and the daily active
//! users. The daily active users come from the shared
//! store's sketch for today, which every instance merges its own into every
//! [`ACTIVITY_FLUSH`] (as Lambda instances do in the cloud), so the figure is
//! the one all instances and regions agree on.
//!
//! Served under `/_local/`, beside the stack's other controls, never through
//! the API: a deployment's metrics go to CloudWatch, not to the public.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use millions_api::ApiState;
use millions_core::photos::JobQueue;
use millions_edge_local::EdgeStats;
use millions_infra::local::Resharder;
use tokio::sync::watch;

use crate::workers::PoolGauge;

pub const PATH: &str = "/_local/metrics";

/// How often each instance merges the users it has seen into the store.
pub const ACTIVITY_FLUSH: Duration = Duration::from_secs(2);

/// Latency buckets, in seconds: from a cached read to a slow upload.
const LATENCY_BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Installs the process's recorder (once; a second call keeps the first).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)?
        .install_recorder()?;
    metrics::describe_counter!(
        "http_requests_total",
        "API requests by route template, method and status class"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        "API request latency by route template and method"
    );
    metrics::describe_counter!("signups_total", "Accounts created");
    metrics::describe_counter!(
        "logins_total",
        "Login attempts that reached the password check, by outcome"
    );
    metrics::describe_counter!("photo_jobs_total", "Photo jobs finished, by outcome");
    metrics::describe_gauge!(
        "daily_active_users",
        "Distinct users seen today (UTC) by any instance, estimated"
    );
    metrics::describe_gauge!("photo_queue_backlog", "Photo jobs waiting in the queue");
    metrics::describe_counter!(
        "edge_responses_total",
        "Answers of the front door's edge, by its x-cache label"
    );
    metrics::describe_counter!(
        "edge_origin_failures_total",
        "Edge answers that were 502 or 504: no origin answered in time"
    );
    metrics::describe_gauge!("photo_workers_busy", "Photo workers processing a job");
    metrics::describe_gauge!(
        "photo_queue_oldest_seconds",
        "How long the oldest waiting photo job has waited"
    );
    metrics::describe_gauge!(
        "photo_queue_dead_letters",
        "Photo job messages in the dead-letter queue"
    );
    metrics::describe_histogram!(
        "photo_job_duration_seconds",
        "Photo jobs from the request that queued them to their end, by outcome"
    );
    metrics::describe_histogram!(
        "store_operation_duration_seconds",
        "Data-tier calls by table, operation and outcome (condition_failed: a conditional write that lost)"
    );
    metrics::describe_gauge!(
        "store_shard_users",
        "Users stored in each shard of the embedded store"
    );
    metrics::describe_histogram!(
        "edge_origin_duration_seconds",
        "The edge's requests to an origin, by region and outcome"
    );
    Ok(handle)
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    queue: Arc<dyn JobQueue>,
    pool: Arc<PoolGauge>,
    activity: Arc<ApiState>,
    edge: Option<Arc<EdgeStats>>,
    shards: Option<Resharder>,
}

/// What the scrape reads besides the registry.
pub struct Sources {
    pub queue: Arc<dyn JobQueue>,
    pub pool: Arc<PoolGauge>,
    /// Any API instance: its merge publishes today's active users.
    pub any_instance: Arc<ApiState>,
    pub edge: Option<Arc<EdgeStats>>,
    /// The embedded store's shards (none on the aws backend).
    pub shards: Option<Resharder>,
}

/// The route, reading the queue, the shards and today's active users as it
/// is scraped.
pub fn routes(handle: PrometheusHandle, sources: Sources) -> Router {
    Router::new().route(PATH, get(scrape)).with_state(Scrape {
        handle,
        queue: sources.queue,
        pool: sources.pool,
        activity: sources.any_instance,
        edge: sources.edge,
        shards: sources.shards,
    })
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    match scrape.queue.depth().await {
        Ok(depth) => {
            metrics::gauge!("photo_queue_backlog").set(depth.waiting as f64);
            metrics::gauge!("photo_queue_dead_letters").set(depth.dead_letters as f64);
            if let Some(age) = depth.oldest_waiting_ms {
                metrics::gauge!("photo_queue_oldest_seconds").set(age as f64 / 1000.0);
            }
        }
        Err(error) => tracing::warn!(%error, "the queue's depth could not be read"),
    }
    if let Some(shards) = &scrape.shards {
        match shards.users_by_shard() {
            Ok(sizes) => {
                for (shard, users) in sizes.into_iter().enumerate() {
                    metrics::gauge!("store_shard_users", "shard" => shard.to_string())
                        .set(users as f64);
                }
            }
            Err(error) => tracing::warn!(%error, "the shards' sizes could not be read"),
        }
    }
    let busy = scrape.pool.busy.load(std::sync::atomic::Ordering::Relaxed);
    metrics::gauge!("photo_workers_busy").set(busy as f64);
    flush_activity(&scrape.activity).await;
    if let Some(edge) = &scrape.edge {
        for (label, count) in edge.answers() {
            metrics::counter!("edge_responses_total", "cache" => label).absolute(count);
        }
        metrics::counter!("edge_origin_failures_total").absolute(edge.origin_failures());
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
}

/// Merges what `instance` has seen into the store and publishes today's
/// estimate.
async fn flush_activity(instance: &ApiState) {
    match instance.services.activity.flush().await {
        Ok(estimate) => metrics::gauge!("daily_active_users").set(estimate as f64),
        Err(error) => {
            tracing::warn!(%error, "merging today's active users failed; kept for the next try")
        }
    }
}

/// Merges `instance`'s active users into the store every [`ACTIVITY_FLUSH`]
/// until `stopping` fires, and once more then.
pub async fn flush_activity_forever(instance: Arc<ApiState>, mut stopping: watch::Receiver<()>) {
    let mut ticks = tokio::time::interval(ACTIVITY_FLUSH);
    loop {
        tokio::select! {
            _ = ticks.tick() => flush_activity(&instance).await,
            _ = stopping.changed() => break,
        }
    }
    flush_activity(&instance).await;
}
