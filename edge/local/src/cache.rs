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

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use moka::future::Cache;
use moka::Expiry;

/// A stored answer.
#[derive(Debug)]
pub struct CachedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub region: String,
    pub lifetime: Duration,
}

impl CachedResponse {
    fn weight(&self) -> u32 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        u32::try_from(self.body.len() + headers + 64).unwrap_or(u32::MAX)
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

    pub async fn get(&self, key: &str) -> Option<Arc<CachedResponse>> {
        self.entries.get(key).await
    }

    pub fn epoch(&self) -> Epoch {
        Epoch(self.purges.load(Ordering::SeqCst))
    }

    /// Stores `response` unless a purge happened since `epoch`.
    pub async fn store(&self, key: String, response: Arc<CachedResponse>, epoch: Epoch) -> bool {
        if self.purges.load(Ordering::SeqCst) != epoch.0 {
            return false;
        }
        self.entries.insert(key.clone(), response).await;
        // A purge may have slipped in between the check and the insert; if
        // so, undo the insert rather than keep a possibly stale entry.
        if self.purges.load(Ordering::SeqCst) != epoch.0 {
            self.entries.invalidate(&key).await;
            return false;
        }
        true
    }

    pub async fn purge(&self, keys: &[String]) {
        self.purges.fetch_add(1, Ordering::SeqCst);
        for key in keys {
            self.entries.invalidate(key).await;
        }
    }
}
