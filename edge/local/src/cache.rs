//! The edge's response cache: bounded by bytes, each entry living as long as
//! the policy said, and safe against the purge race.
//!
//! It is `quick_cache` (S3-FIFO eviction, sharded locks) rather than a cache
//! with its own timer wheel: a hit is on the path of every cached read, and
//! a lookup here is one read lock and a flag, where a timer-wheel cache also
//! records each read for its eviction queues. An entry's lifetime is checked
//! when it is read; an expired entry is dropped then, or evicted by newer
//! ones before.
//!
//! The race: a read misses and asks the origin for version 5; meanwhile a
//! write makes version 6 and purges the key; then the read's answer (5)
//! arrives and would be stored, stale, for the whole TTL. So every purge bumps
//! an epoch, and an answer fetched across a purge is served but not stored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use millions_edge_policy::engine::{ResponseStore, Stored};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// The size the cache plans its index for, per entry (a profile read is
/// about 1 KiB with its headers; assets and photos are larger).
const TYPICAL_ENTRY_BYTES: u64 = 2 * 1024;

/// A stored answer, until when the policy said to keep it, and its size.
#[derive(Debug)]
pub struct CachedResponse {
    pub stored: Stored,
    expires: Instant,
    weight: u64,
}

impl CachedResponse {
    fn new(stored: Stored, lifetime: Duration) -> Self {
        let headers: usize = stored
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        let weight = (stored.body.len() + headers + 64) as u64;
        Self {
            stored,
            expires: Instant::now() + lifetime,
            weight,
        }
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

/// Weighs an entry by its bytes, computed once when it is stored.
#[derive(Clone)]
struct ByBytes;

impl Weighter<String, Arc<CachedResponse>> for ByBytes {
    fn weight(&self, _: &String, value: &Arc<CachedResponse>) -> u64 {
        value.weight
    }
}

/// Responses by cache key.
#[derive(Clone)]
pub struct ResponseCache {
    entries: Arc<Cache<String, Arc<CachedResponse>, ByBytes>>,
    purges: Arc<AtomicU64>,
}

/// Taken before asking the origin; storing checks no purge happened since.
#[derive(Debug, Clone, Copy)]
pub struct Epoch(u64);

impl ResponseCache {
    pub fn new(max_bytes: u64) -> Self {
        let items = usize::try_from(max_bytes / TYPICAL_ENTRY_BYTES)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            entries: Arc::new(Cache::with_weighter(items, max_bytes, ByBytes)),
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
        let entry = self.entries.get(key)?;
        if entry.expires > Instant::now() {
            return Some(Hit(entry));
        }
        // Only this expired entry: a fresh one stored meanwhile stays.
        self.entries
            .remove_if(key, |held| Arc::ptr_eq(held, &entry));
        None
    }

    /// Stores the answer unless a purge happened since `epoch`.
    async fn put(&self, key: String, stored: Stored, lifetime_secs: u32, epoch: Epoch) {
        if self.purges.load(Ordering::SeqCst) != epoch.0 {
            return;
        }
        let entry = Arc::new(CachedResponse::new(
            stored,
            Duration::from_secs(lifetime_secs.into()),
        ));
        self.entries.insert(key.clone(), Arc::clone(&entry));
        // A purge may have slipped in between the check and the insert; if
        // so, undo the insert rather than keep a possibly stale entry.
        if self.purges.load(Ordering::SeqCst) != epoch.0 {
            self.entries
                .remove_if(&key, |held| Arc::ptr_eq(held, &entry));
        }
    }

    async fn purge(&self, keys: &[String]) {
        self.purges.fetch_add(1, Ordering::SeqCst);
        for key in keys {
            self.entries.remove(key.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    use super::*;

    fn answer(body: &str) -> Stored {
        Stored {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::copy_from_slice(body.as_bytes()),
            region: "local".into(),
            policy: None,
        }
    }

    async fn body_of(cache: &ResponseCache, key: &str) -> Option<Bytes> {
        cache.get(key).await.map(|hit| hit.as_ref().body.clone())
    }

    #[tokio::test]
    async fn an_entry_is_read_back_until_its_lifetime_ends() {
        let cache = ResponseCache::new(1024 * 1024);
        cache
            .put("/a".into(), answer("kept"), 60, cache.ticket())
            .await;
        cache
            .put("/b".into(), answer("gone"), 0, cache.ticket())
            .await;
        assert_eq!(body_of(&cache, "/a").await, Some(Bytes::from("kept")));
        assert_eq!(body_of(&cache, "/b").await, None);
        assert_eq!(cache.entries.len(), 1, "the expired entry was dropped");
    }

    #[tokio::test]
    async fn an_answer_fetched_across_a_purge_is_not_stored() {
        let cache = ResponseCache::new(1024 * 1024);
        let before = cache.ticket();
        cache.purge(&["/users/1".into()]).await;
        cache.put("/users/1".into(), answer("v5"), 60, before).await;
        assert_eq!(body_of(&cache, "/users/1").await, None);
        cache
            .put("/users/1".into(), answer("v6"), 60, cache.ticket())
            .await;
        assert_eq!(body_of(&cache, "/users/1").await, Some(Bytes::from("v6")));
    }

    #[tokio::test]
    async fn a_purge_removes_the_entry() {
        let cache = ResponseCache::new(1024 * 1024);
        cache
            .put("/users/1".into(), answer("v1"), 60, cache.ticket())
            .await;
        cache.purge(&["/users/1".into()]).await;
        assert_eq!(body_of(&cache, "/users/1").await, None);
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_bytes() {
        let cache = ResponseCache::new(64 * 1024);
        let body = "x".repeat(1000);
        for n in 0..1000 {
            cache
                .put(format!("/{n}"), answer(&body), 60, cache.ticket())
                .await;
        }
        assert!(cache.entries.weight() <= 64 * 1024);
        assert!(cache.entries.len() < 1000, "older entries were evicted");
        assert_eq!(body_of(&cache, "/999").await.map(|b| b.len()), Some(1000));
    }
}
