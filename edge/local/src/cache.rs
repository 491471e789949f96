//! The edge's response cache: bounded by bytes, each entry living as long as
//! the policy said, and safe against the purge race.
//!
//! The race: a read misses and asks the origin for version 5; meanwhile a
//! write makes version 6 and purges the key; then the read's answer (5)
//! arrives and would be stored, stale, for the whole TTL. So every purge bumps
//! an epoch, and an answer fetched across a purge is served but not stored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use millions_edge_policy::engine::{ResponseStore, Stored};
use moka::sync::Cache;
use moka::Expiry;

/// A stored answer and how long the policy said to keep it.
#[derive(Debug)]
pub struct CachedResponse {
    pub stored: Stored,
    pub lifetime: Duration,
}

impl CachedResponse {
    fn weight(&self) -> u32 {
        let headers: usize = self
            .stored
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        u32::try_from(self.stored.body.len() + headers + 64).unwrap_or(u32::MAX)
    }
}

/// A shared handle on a cached answer (no copy per hit).
#[derive(Debug, Clone)]
pub struct Hit(Arc<CachedResponse>);

impl AsRef<Stored> for Hit {
    fn as_ref(&self) -> &Stored {
        &self.0.stored
    }
}

struct PolicyLifetime;

impl Expiry<String, Arc<CachedResponse>> for PolicyLifetime {
    fn expire_after_create(
        &self,
        _: &String,
        value: &Arc<CachedResponse>,
        _: Instant,
    ) -> Option<Duration> {
        Some(value.lifetime)
    }
}

/// Responses by cache key.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Cache<String, Arc<CachedResponse>>,
    purges: Arc<AtomicU64>,
}

/// Taken before asking the origin; storing checks no purge happened since.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl ResponseCache {
    pub fn new(max_bytes: u64) -> Self {
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_: &String, value: &Arc<CachedResponse>| value.weight())
            .expire_after(PolicyLifetime)
            .build();
        Self {
            entries,
            purges: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl ResponseStore for ResponseCache {
    type Entry = Hit;
    type Ticket = Epoch;

    fn ticket(&self) -> Epoch {
        Epoch(self.purges.load(Ordering::SeqCst))
    }

    async fn get(&self, key: &str) -> Option<Hit> {
        self.entries.get(key).map(Hit)
    }

    /// Stores the answer unless a purge happened since `epoch`.
    async fn put(&self, key: String, stored: Stored, lifetime_secs: u32, epoch: Epoch) {
        if self.purges.load(Ordering::SeqCst) != epoch.0 {
            return;
        }
        let entry = Arc::new(CachedResponse {
            stored,
            lifetime: Duration::from_secs(lifetime_secs.into()),
        });
        self.entries.insert(key.clone(), entry);
        // A purge may have slipped in between the check and the insert; if
        // so, undo the insert rather than keep a possibly stale entry.
        if self.purges.load(Ordering::SeqCst) != epoch.0 {
            self.entries.invalidate(&key);
        }
    }

    async fn purge(&self, keys: &[String]) {
        self.purges.fetch_add(1, Ordering::SeqCst);
        for key in keys {
            self.entries.invalidate(key);
        }
    }
}
