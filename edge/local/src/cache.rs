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
//! arrives and would be stored, stale, for the whole TTL. So a purge bumps an
//! epoch, and an answer fetched across a purge of its key is served but not
//! stored. The epochs are kept per stripe of the key space (4,096 of them,
//! by a hash of the key), not one for the whole cache: with one, every purge
//! of any key made every fill in flight unstorable, so the hit rate fell
//! with the write rate. A purge now costs only fills of keys in its own
//! stripe, about one key in 4,096, for 32 KiB of counters.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use millions_edge_policy::runtime::{OriginAnswer, ResponseStore};
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// The size the cache plans its index for, per entry (a profile read is
/// about 1 KiB with its headers; assets and photos are larger).
const TYPICAL_ENTRY_BYTES: u64 = 2 * 1024;

/// A stored answer, until when the policy said to keep it, and its size.
#[derive(Debug)]
pub struct CachedResponse {
    pub stored: OriginAnswer,
    expires: Instant,
    weight: u64,
}

/// Bytes an entry costs beyond its body and header text: the header map's
/// table and each field's slot, the key, the cache's own node.
const ENTRY_OVERHEAD_BYTES: usize = 512;
const FIELD_OVERHEAD_BYTES: usize = 48;

impl CachedResponse {
    fn new(stored: OriginAnswer, lifetime: Duration) -> Self {
        let stored = compacted(stored);
        let headers: usize = stored
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + FIELD_OVERHEAD_BYTES)
            .sum();
        let weight = (stored.body.len() + headers + ENTRY_OVERHEAD_BYTES) as u64;
        Self {
            stored,
            expires: Instant::now() + lifetime,
            weight,
        }
    }
}

/// The answer with its body and header values in allocations of their own.
/// As read from the origin they are slices of the connection's read buffer,
/// and a slice keeps the whole buffer alive: a cache weighed at 64 MiB held
/// about 700 MiB over a million profiles before this copy.
fn compacted(mut stored: OriginAnswer) -> OriginAnswer {
    stored.body = Bytes::copy_from_slice(&stored.body);
    for value in stored.headers.values_mut() {
        let mut copy =
            HeaderValue::from_bytes(value.as_bytes()).expect("a valid value stays valid");
        copy.set_sensitive(value.is_sensitive());
        *value = copy;
    }
    stored
}

/// A shared handle on a cached answer (no copy per hit).
#[derive(Debug, Clone)]
pub struct Hit(Arc<CachedResponse>);

impl AsRef<OriginAnswer> for Hit {
    fn as_ref(&self) -> &OriginAnswer {
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

/// How many purge epochs the key space is split into.
const PURGE_STRIPES: usize = 4096;

/// Responses by cache key.
pub struct ResponseCache {
    entries: Cache<String, Arc<CachedResponse>, ByBytes>,
    /// Purges so far, per stripe of the key space.
    purges: Box<[AtomicU64]>,
    /// Which stripe a key is in (keyed per process: the stripes live in memory only).
    stripes: RandomState,
}

/// Taken before asking the origin: the key's stripe and its purge count
/// then; storing checks no purge of that stripe happened since.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    stripe: usize,
    purges: u64,
}

impl ResponseCache {
    pub fn new(max_bytes: u64) -> Self {
        let items = usize::try_from(max_bytes / TYPICAL_ENTRY_BYTES)
            .unwrap_or(usize::MAX)
            .max(16);
        Self {
            entries: Cache::with_weighter(items, max_bytes, ByBytes),
            purges: (0..PURGE_STRIPES).map(|_| AtomicU64::new(0)).collect(),
            stripes: RandomState::new(),
        }
    }

    fn stripe(&self, key: &str) -> usize {
        (self.stripes.hash_one(key) % PURGE_STRIPES as u64) as usize
    }

    /// Whether a purge of `epoch`'s stripe happened since it was taken.
    fn purged_since(&self, epoch: Epoch) -> bool {
        self.purges[epoch.stripe].load(Ordering::SeqCst) != epoch.purges
    }
}

impl ResponseStore for ResponseCache {
    type Entry = Hit;
    type Ticket = Epoch;

    fn ticket(&self, key: &str) -> Epoch {
        let stripe = self.stripe(key);
        Epoch {
            stripe,
            purges: self.purges[stripe].load(Ordering::SeqCst),
        }
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

    /// Stores the answer unless its key's stripe was purged since `epoch`.
    async fn put(&self, key: String, stored: OriginAnswer, lifetime_secs: u32, epoch: Epoch) {
        if self.purged_since(epoch) {
            return;
        }
        let entry = Arc::new(CachedResponse::new(
            stored,
            Duration::from_secs(lifetime_secs.into()),
        ));
        self.entries.insert(key.clone(), Arc::clone(&entry));
        // A purge may have slipped in between the check and the insert; if
        // so, undo the insert rather than keep a possibly stale entry.
        if self.purged_since(epoch) {
            self.entries
                .remove_if(&key, |held| Arc::ptr_eq(held, &entry));
        }
    }

    async fn purge(&self, keys: &[String]) {
        // The epoch first, then the entry: a fill that read the epoch before
        // this bump is refused (or undone) whichever way the two interleave.
        for key in keys {
            self.purges[self.stripe(key)].fetch_add(1, Ordering::SeqCst);
            self.entries.remove(key.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    use super::*;

    fn answer(body: &str) -> OriginAnswer {
        OriginAnswer {
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
            .put("/a".into(), answer("kept"), 60, cache.ticket("/a"))
            .await;
        cache
            .put("/b".into(), answer("gone"), 0, cache.ticket("/b"))
            .await;
        assert_eq!(body_of(&cache, "/a").await, Some(Bytes::from("kept")));
        assert_eq!(body_of(&cache, "/b").await, None);
        assert_eq!(cache.entries.len(), 1, "the expired entry was dropped");
    }

    #[tokio::test]
    async fn an_answer_fetched_across_a_purge_is_not_stored() {
        let cache = ResponseCache::new(1024 * 1024);
        let before = cache.ticket("/users/1");
        cache.purge(&["/users/1".into()]).await;
        cache.put("/users/1".into(), answer("v5"), 60, before).await;
        assert_eq!(body_of(&cache, "/users/1").await, None);
        cache
            .put(
                "/users/1".into(),
                answer("v6"),
                60,
                cache.ticket("/users/1"),
            )
            .await;
        assert_eq!(body_of(&cache, "/users/1").await, Some(Bytes::from("v6")));
    }

    /// `count` profile keys whose purges do not touch `key`'s stripe.
    fn other_profiles(cache: &ResponseCache, key: &str, count: usize) -> Vec<String> {
        (2..)
            .map(|n| format!("/users/{n}"))
            .filter(|other| cache.stripe(other) != cache.stripe(key))
            .take(count)
            .collect()
    }

    #[tokio::test]
    async fn fills_are_stored_while_other_keys_are_purged() {
        // Each fill of one profile has a write to another profile's key
        // purged between its ticket and its answer, as under a stream of
        // writes: every one of them is stored.
        let cache = ResponseCache::new(1024 * 1024);
        let hot = "/users/1";
        let others = other_profiles(&cache, hot, 1000);
        for (n, other) in others.iter().enumerate() {
            let ticket = cache.ticket(hot);
            cache.purge(std::slice::from_ref(other)).await;
            let body = format!("v{n}");
            cache.put(hot.into(), answer(&body), 60, ticket).await;
            assert_eq!(body_of(&cache, hot).await, Some(Bytes::from(body)));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_purges_of_other_keys_leave_fills_alone() {
        let cache = Arc::new(ResponseCache::new(1024 * 1024));
        let hot = "/users/1";
        let others = other_profiles(&cache, hot, 100);
        let writer = {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                for _ in 0..200 {
                    for other in &others {
                        cache.purge(std::slice::from_ref(other)).await;
                    }
                    tokio::task::yield_now().await;
                }
            })
        };
        let mut refused = 0;
        for n in 0..2_000 {
            let ticket = cache.ticket(hot);
            tokio::task::yield_now().await;
            let body = format!("v{n}");
            cache.put(hot.into(), answer(&body), 60, ticket).await;
            refused += usize::from(body_of(&cache, hot).await != Some(Bytes::from(body)));
        }
        writer.await.unwrap();
        assert_eq!(refused, 0, "fills refused because other keys were purged");
    }

    #[tokio::test]
    async fn a_purge_removes_the_entry() {
        let cache = ResponseCache::new(1024 * 1024);
        cache
            .put(
                "/users/1".into(),
                answer("v1"),
                60,
                cache.ticket("/users/1"),
            )
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
                .put(
                    format!("/{n}"),
                    answer(&body),
                    60,
                    cache.ticket(&format!("/{n}")),
                )
                .await;
        }
        assert!(cache.entries.weight() <= 64 * 1024);
        assert!(cache.entries.len() < 1000, "older entries were evicted");
        assert_eq!(body_of(&cache, "/999").await.map(|b| b.len()), Some(1000));
    }
}
