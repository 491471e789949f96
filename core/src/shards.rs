//! Which shard holds a key: jump consistent hash (Lamping and Veach, "A Fast,
//! Minimal Memory, Consistent Hash Algorithm", 2014) over a shard count.
//!
//! Why consistent hashing: going from N to M shards must move only the keys
//! whose shard changes, about |M − N| / max(M, N) of them, where `id % N`
//! moves nearly all of them (the tests measure both). Why jump hash: the
//! shards here are numbered 0..N and are only added or removed at the end,
//! which is exactly its contract; it needs no ring and no memory, and spreads
//! keys evenly.
//!
//! Why these lines and not a crate: the function is a durable contract. Every
//! stored key's shard is computed from it, so it must never change under the
//! store with a dependency update. The algorithm is eight lines, the crates
//! that carry it are single releases or unmaintained, and the core stays
//! small for wasm. The paper's function is pinned by the same reference
//! vectors other implementations test against.
//!
//! User ids are time-ordered (timestamp, node, sequence), so ids minted close
//! together differ in their low bits only. Keys are first mixed with
//! SplitMix64's finaliser, a bijection on 64 bits, so neighbours scatter and
//! the spread does not depend on how ids are laid out. Text keys (an email)
//! are reduced to 64 bits with SHA-256, which is stable across platforms and
//! releases, unlike `std`'s hasher.

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::UserId;

/// How many shards the data tier has: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShardCount(NonZeroU32);

impl ShardCount {
    /// The default for a new data folder: enough for writes to different
    /// shards to commit in parallel on a laptop's cores.
    pub const DEFAULT: Self = Self(NonZeroU32::new(4).unwrap());

    /// The most shards a data folder may have: each is a store file with its
    /// own memory map and writer, and more than this buys no parallelism on
    /// one machine.
    pub const MAX: u32 = 256;

    /// `None` for zero.
    pub fn new(count: u32) -> Option<Self> {
        NonZeroU32::new(count).map(Self)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// Every shard, in order.
    pub fn shards(self) -> impl Iterator<Item = Shard> {
        (0..self.get()).map(Shard)
    }
}

/// A shard count that is not a whole number from 1 to [`ShardCount::MAX`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a shard count is a whole number from 1 to {max}, not {given:?}", max = ShardCount::MAX)]
pub struct InvalidShardCount {
    given: String,
}

impl std::str::FromStr for ShardCount {
    type Err = InvalidShardCount;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<u32>()
            .ok()
            .filter(|count| *count <= Self::MAX)
            .and_then(Self::new)
            .ok_or_else(|| InvalidShardCount {
                given: text.to_owned(),
            })
    }
}

impl fmt::Display for ShardCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One shard: its number, from 0 to the shard count less one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Shard(u32);

impl Shard {
    /// The shard that holds `user`'s records among `count` shards.
    pub fn of_user(user: UserId, count: ShardCount) -> Self {
        Self::of_key(user.get(), count)
    }

    /// The shard that holds records keyed by the text `key` (such as an
    /// email address) among `count` shards.
    pub fn of_text(key: &str, count: ShardCount) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Self::of_key(u64::from_be_bytes(first), count)
    }

    /// The shard of a 64-bit key among `count` shards.
    pub fn of_key(key: u64, count: ShardCount) -> Self {
        Self(jump_hash(mix(key), count.get()))
    }

    pub fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// SplitMix64's finaliser (Steele, Lea and Flood, 2014): every input bit
/// affects every output bit.
pub(crate) fn mix(mut key: u64) -> u64 {
    key = (key ^ (key >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    key = (key ^ (key >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    key ^ (key >> 31)
}

/// The paper's function, as published: a bucket in `0..buckets` (`buckets`
/// is at least 1). Each step jumps to the next bucket at which the key would
/// move as buckets are added, so it runs in O(log buckets).
fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let (mut bucket, mut next): (i64, i64) = (-1, 0);
    while next < i64::from(buckets) {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        next = ((bucket + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    bucket as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdGenerator;

    fn count(n: u32) -> ShardCount {
        ShardCount::new(n).unwrap()
    }

    /// 100,000 ids as the service mints them: time-ordered, several nodes,
    /// many in one millisecond.
    fn minted_ids() -> Vec<UserId> {
        let generators: Vec<IdGenerator> = (0..4).map(IdGenerator::new).collect();
        let start_ms = 1_780_000_000_000;
        (0..100_000u64)
            .map(|i| {
                generators[(i % 4) as usize]
                    .next_id(start_ms + i / 40)
                    .expect("40 ids per node and millisecond fit")
            })
            .collect()
    }

    fn moved_fraction(ids: &[UserId], shard: impl Fn(UserId) -> (u32, u32)) -> f64 {
        let moved = ids
            .iter()
            .filter(|&&id| {
                let (before, after) = shard(id);
                before != after
            })
            .count();
        moved as f64 / ids.len() as f64
    }

    #[test]
    fn the_published_function_gives_the_reference_buckets() {
        // The vectors other implementations of the paper test against.
        assert_eq!(jump_hash(1, 1), 0);
        assert_eq!(jump_hash(42, 57), 43);
        assert_eq!(jump_hash(0xDEAD_10CC, 1), 0);
        assert_eq!(jump_hash(0xDEAD_10CC, 666), 361);
        assert_eq!(jump_hash(256, 1024), 520);
    }

    #[test]
    fn shards_of_stored_keys_never_change() {
        // Stored data is placed by these values: a change here strands it.
        let four = count(4);
        let shards: Vec<u32> = [1u64, 2, 3, 1 << 40, u64::MAX]
            .map(|key| Shard::of_key(key, four).index())
            .to_vec();
        assert_eq!(shards, [0, 3, 0, 3, 3]);
        assert_eq!(Shard::of_text("john@example.com", four).index(), 0);
    }

    #[test]
    fn resharding_moves_only_the_keys_whose_shard_changes() {
        let ids = minted_ids();
        for (from, to) in [(4, 5), (5, 4), (4, 8), (1, 4), (8, 10)] {
            let expected = f64::from(from.max(to) - from.min(to)) / f64::from(from.max(to));
            let jump = moved_fraction(&ids, |id| {
                (
                    Shard::of_user(id, count(from)).index(),
                    Shard::of_user(id, count(to)).index(),
                )
            });
            assert!(
                (jump - expected).abs() < 0.01,
                "{from} -> {to} shards moved {jump:.4} of the keys, expected {expected:.4}"
            );
            let modulo = moved_fraction(&ids, |id| {
                (
                    (id.get() % u64::from(from)) as u32,
                    (id.get() % u64::from(to)) as u32,
                )
            });
            println!("{from} -> {to} shards: jump hash moves {jump:.4}, id % n moves {modulo:.4}");
            if from != 1 && to % from != 0 {
                assert!(
                    modulo > 0.7,
                    "{from} -> {to}: id % n moved only {modulo:.4}"
                );
            }
        }
    }

    #[test]
    fn a_key_that_moves_when_shards_are_added_moves_to_a_new_shard() {
        for id in minted_ids().into_iter().take(20_000) {
            let before = Shard::of_user(id, count(4));
            let after = Shard::of_user(id, count(6));
            assert!(
                after == before || after.index() >= 4,
                "{id}: {before} -> {after}"
            );
        }
    }

    #[test]
    fn keys_spread_evenly() {
        let ids = minted_ids();
        let mut per_shard = [0usize; 5];
        for id in &ids {
            per_shard[Shard::of_user(*id, count(5)).index() as usize] += 1;
        }
        let even = ids.len() as f64 / 5.0;
        for (shard, keys) in per_shard.iter().enumerate() {
            let off = (*keys as f64 - even).abs() / even;
            assert!(
                off < 0.02,
                "shard {shard} holds {keys} keys, {off:.3} off even"
            );
        }
    }

    #[test]
    fn every_shard_is_in_range() {
        for n in 1..=64 {
            for key in 0..500u64 {
                assert!(Shard::of_key(key, count(n)).index() < n);
            }
        }
        assert_eq!(
            count(3).shards().map(Shard::index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(ShardCount::new(0).is_none());
    }

    #[test]
    fn a_shard_count_parses_from_1_to_the_maximum() {
        assert_eq!("4".parse::<ShardCount>().unwrap().get(), 4);
        assert_eq!("256".parse::<ShardCount>().unwrap().get(), 256);
        for bad in ["0", "257", "-1", "four", ""] {
            let error = bad.parse::<ShardCount>().unwrap_err();
            assert!(error.to_string().contains("from 1 to 256"), "{error}");
        }
    }
}
