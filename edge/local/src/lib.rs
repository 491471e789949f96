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

use millions_edge_policy::engine::Edge;
use millions_edge_policy::origins::Origin;

pub use cache::ResponseCache;
pub use front::Front;
pub use stats::EdgeStats;

/// How the edge is set up: the settings every edge runtime shares (one
/// type, one parser, one set of defaults), and what only a process of its
/// own has.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub settings: EdgeSettings,
    /// How long one attempt at one origin may take.
    pub origin_timeout: Duration,
    /// Upper bound of the cache's size, in bytes of stored bodies and headers.
    pub cache_bytes: u64,
    /// Where the front door counts its answers.
    pub stats: Arc<EdgeStats>,
}

impl EdgeConfig {
    /// These settings, with a 64 MiB cache and 10 s per origin attempt.
    pub fn new(settings: EdgeSettings) -> Self {
        Self {
            settings,
            origin_timeout: Duration::from_secs(10),
            cache_bytes: 64 * 1024 * 1024,
            stats: Arc::default(),
        }
    }

    /// One origin, defaults for everything else.
    pub fn single_origin(url: impl Into<String>) -> Self {
        Self::new(EdgeSettings {
            origins: vec![Origin {
                region: "local".into(),
                url: url.into(),
                near: Vec::new(),
            }],
            ..EdgeSettings::default()
        })
    }
}

/// Builds the front door: the edge, with `local` (routes under `/_local/`)
/// served beside it. Start it with [`Front::serve`].
pub fn front(config: EdgeConfig, local: axum::Router) -> Front {
    let shared = front::Shared {
        edge: Edge::new(
            config.settings,
            ResponseCache::new(config.cache_bytes),
            transport::HyperTransport::new(config.origin_timeout),
            now_ms,
            trace_seed(),
        ),
        stats: config.stats,
    };
    Front::new(shared, local)
}

/// The seed of the edge's trace and span ids, from the operating system.
fn trace_seed() -> u128 {
    let mut seed = [0; 16];
    // Without the system's randomness the ids still count up from the
    // clock: unique here, if guessable.
    if getrandom::fill(&mut seed).is_err() {
        seed[..8].copy_from_slice(&now_ms().to_le_bytes());
    }
    u128::from_le_bytes(seed)
}

/// The wall clock: ages are computed against the origin's `Date`.
fn now_ms() -> u64 {
    millions_edge_policy::freshness::system_now_ms()
}

/// Re-exported so callers can configure the edge without naming the policy crate.
pub mod policy {
    pub use millions_edge_policy::config::EdgeSettings;
    pub use millions_edge_policy::origins::Origin;
}

pub use policy::EdgeSettings;
