//! The local edge: a caching reverse proxy in front of the local stack.
//!
//! It makes the same decisions as the Cloudflare Worker and the Spin
//! component, because it asks the same pure policy (`millions-edge-policy`);
//! what it adds is only the runtime part: an in-memory cache bounded in bytes
//! (quick_cache, with per-entry lifetimes) and an HTTP client to the origins.
//!
//! Every answer says how it was served: `x-cache: HIT | MISS | BYPASS`, and
//! `x-edge-origin` names the region that produced it.

mod cache;
mod front;
mod stats;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use millions_edge_policy::config::DEFAULT_STATIC_SECONDS;
use millions_edge_policy::engine::{Client, Edge, EdgeSettings};
use millions_edge_policy::origins::Origin;

pub use cache::ResponseCache;
pub use front::Front;
pub use stats::EdgeStats;

/// How the edge is set up.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// The release; part of every cache key, so a deploy starts a clean cache.
    pub asset_version: String,
    /// Seconds the web app's plain (not content-hashed) files are fresh.
    pub static_seconds: u32,
    /// Origin regions in order of preference.
    pub origins: Vec<Origin>,
    /// The continent the local edge pretends its clients are on.
    pub continent: Option<String>,
    /// Failures in a row before a region is skipped.
    pub failure_threshold: u32,
    /// How long a failed region is skipped before it is probed again.
    pub cooldown: Duration,
    /// How long one attempt at one origin may take.
    pub origin_timeout: Duration,
    /// Upper bound of the cache's size, in bytes of stored bodies and headers.
    pub cache_bytes: u64,
    /// Spread requests over all origins (instances of one region) instead of
    /// preferring them in order (regions).
    pub balance: bool,
    /// Where the front door counts its answers.
    pub stats: Arc<EdgeStats>,
}

impl EdgeConfig {
    /// One origin, defaults for everything else.
    pub fn single_origin(url: impl Into<String>) -> Self {
        Self {
            asset_version: "dev".into(),
            static_seconds: DEFAULT_STATIC_SECONDS,
            origins: vec![Origin {
                region: "local".into(),
                url: url.into(),
                near: Vec::new(),
            }],
            continent: None,
            failure_threshold: 2,
            cooldown: Duration::from_secs(5),
            origin_timeout: Duration::from_secs(10),
            cache_bytes: 64 * 1024 * 1024,
            balance: false,
            stats: Arc::default(),
        }
    }
}

/// Builds the front door: the edge, with `local` (routes under `/_local/`)
/// served beside it. Start it with [`Front::serve`].
pub fn front(config: EdgeConfig, local: axum::Router) -> Front {
    let settings = EdgeSettings {
        asset_version: config.asset_version.clone(),
        static_seconds: config.static_seconds,
        origins: config.origins.clone(),
        default_continent: None,
        failure_threshold: config.failure_threshold,
        cooldown_ms: config.cooldown.as_millis() as u64,
        balance: config.balance,
        coalesce_misses: true,
    };
    let shared = front::Shared {
        edge: Edge::new(
            settings,
            ResponseCache::new(config.cache_bytes),
            transport::HyperTransport::new(config.origin_timeout),
            now_ms,
        ),
        client: Client {
            address: None,
            continent: config.continent.clone(),
        },
        stats: config.stats,
    };
    Front::new(shared, local)
}

/// The wall clock: ages are computed against the origin's `Date`.
fn now_ms() -> u64 {
    millions_edge_policy::freshness::system_now_ms()
}

/// Re-exported so callers can build origin lists without naming the policy crate.
pub mod policy {
    pub use millions_edge_policy::origins::Origin;
}
