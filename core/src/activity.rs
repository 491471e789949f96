//! Daily active users: how many distinct users used the product on a UTC
//! day, counted across every instance and region without storing who, in a
//! HyperLogLog sketch (Flajolet, Fusy, Gandouet and Meunier, 2007) with
//! linear counting for small counts (as in Heule, Nunkesser and Hall, 2013).
//!
//! Each instance adds the users it sees to a sketch of its own, in memory,
//! and now and then merges it into the day's sketch in the shared store
//! (the union of two sketches is their registers' maximum, so merging in
//! any order, twice, or from any region gives the same sketch). 16,384
//! one-byte registers estimate any count with a standard error of 0.81 %.
//!
//! Why these lines and not a crate: the stored sketch is a durable format
//! shared by every instance, region and release, merged register by
//! register; its layout and its hash must never change under it, which a
//! dependency update could do. The algorithm is a register array, a maximum
//! and one formula. The hash is the shard function's SplitMix64 finaliser: a
//! bijection on user ids with full avalanche, stable by construction.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::ids::UserId;
use crate::ports::{Clock, StoreError};
use crate::shards::mix;

/// Bits of the hash that pick a register.
const PRECISION: u32 = 14;
/// Registers in a sketch, one byte each.
pub const REGISTERS: usize = 1 << PRECISION;

/// A HyperLogLog sketch of a set of users.
#[derive(Clone, PartialEq, Eq)]
pub struct Sketch {
    registers: Vec<u8>,
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sketch(~{})", self.estimate())
    }
}

impl Default for Sketch {
    fn default() -> Self {
        Self {
            registers: vec![0; REGISTERS],
        }
    }
}

impl Sketch {
    /// A sketch as stored; `None` if `bytes` is not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == REGISTERS && bytes.iter().all(|r| *r <= 64 - PRECISION as u8 + 1)).then(
            || Self {
                registers: bytes.to_vec(),
            },
        )
    }

    /// The registers, as stored.
    pub fn as_bytes(&self) -> &[u8] {
        &self.registers
    }

    pub fn insert(&mut self, user: UserId) {
        let hash = mix(user.get());
        let register = (hash >> (64 - PRECISION)) as usize;
        // The rank of the first 1 bit after the register's bits; the
        // sentinel bit bounds it when they are all zero.
        let rest = (hash << PRECISION) | (1 << (PRECISION - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if rank > self.registers[register] {
            self.registers[register] = rank;
        }
    }

    /// Adds every user `other` has seen.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.registers.iter_mut().zip(&other.registers) {
            *mine = (*mine).max(*theirs);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.registers.iter().all(|r| *r == 0)
    }

    /// How many distinct users the sketch has seen, estimated.
    pub fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            .map(|r| 2f64.powi(-i32::from(*r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|r| **r == 0).count();
        // Small counts leave registers empty: counting those is exact-er.
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// A UTC day, counted from the Unix epoch.
pub fn day_of(now_ms: u64) -> u32 {
    (now_ms / 86_400_000) as u32
}

/// The stored sketch of each day, shared by every instance.
#[async_trait]
pub trait Sketches: Send + Sync {
    /// Merges `sketch` into the one stored for `day`, atomically, and
    /// returns the union.
    async fn merge(&self, day: u32, sketch: &Sketch) -> Result<Sketch, StoreError>;
}

/// One instance's part of the daily active users: the users it has seen
/// since it last merged into the store.
pub struct Activity {
    /// By day (two at midnight), not yet merged.
    pending: Mutex<Vec<(u32, Sketch)>>,
    store: Arc<dyn Sketches>,
    clock: Arc<dyn Clock>,
}

impl Activity {
    pub fn new(store: Arc<dyn Sketches>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            store,
            clock,
        }
    }

    /// Counts `user` as active today. Called on every authenticated request:
    /// one short lock and a register update, no I/O.
    pub fn saw(&self, user: UserId) {
        let day = day_of(self.clock.now_ms());
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.iter_mut().find(|(at, _)| *at == day) {
            Some((_, sketch)) => sketch.insert(user),
            None => {
                let mut sketch = Sketch::default();
                sketch.insert(user);
                pending.push((day, sketch));
            }
        }
    }

    /// Merges what this instance has seen into the store and returns
    /// today's estimate across every instance. What fails to merge is kept
    /// for the next call.
    pub async fn flush(&self) -> Result<u64, StoreError> {
        let today = day_of(self.clock.now_ms());
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let mut estimate = None;
        let mut failed = Vec::new();
        let mut error = None;
        for (day, sketch) in taken {
            match self.store.merge(day, &sketch).await {
                Ok(union) if day == today => estimate = Some(union.estimate()),
                Ok(_) => {}
                Err(cause) => {
                    failed.push((day, sketch));
                    error = Some(cause);
                }
            }
        }
        if !failed.is_empty() {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (day, sketch) in failed {
                match pending.iter_mut().find(|(at, _)| *at == day) {
                    Some((_, newer)) => newer.merge(&sketch),
                    None => pending.push((day, sketch)),
                }
            }
        }
        if let Some(error) = error {
            return Err(error);
        }
        match estimate {
            Some(estimate) => Ok(estimate),
            // Nothing new today here: today's union as stored.
            None => Ok(self
                .store
                .merge(today, &Sketch::default())
                .await?
                .estimate()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<u64>) -> impl Iterator<Item = UserId> {
        range.map(|n| UserId::new(n).unwrap())
    }

    #[test]
    fn estimates_stay_within_two_percent() {
        for count in [1u64, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
            let mut sketch = Sketch::default();
            // Ids as minted: time-ordered, clustered in their low bits.
            for id in ids(7_000_000_000_000..7_000_000_000_000 + count) {
                sketch.insert(id);
            }
            let error = (sketch.estimate() as f64 - count as f64).abs() / count as f64;
            assert!(error <= 0.02, "{count}: estimated {}", sketch.estimate());
        }
    }

    #[test]
    fn merged_sketches_count_the_union_once() {
        let (mut a, mut b) = (Sketch::default(), Sketch::default());
        ids(1..6_000).for_each(|id| a.insert(id));
        ids(4_000..10_000).for_each(|id| b.insert(id));
        let mut union = a.clone();
        union.merge(&b);
        union.merge(&b);
        let error = (union.estimate() as f64 - 9_999.0).abs() / 9_999.0;
        assert!(error <= 0.02, "{union:?}");
        let mut other_order = b;
        other_order.merge(&a);
        assert_eq!(union, other_order);
    }

    #[test]
    fn a_stored_sketch_reads_back_and_junk_does_not() {
        let mut sketch = Sketch::default();
        ids(1..100).for_each(|id| sketch.insert(id));
        assert_eq!(Sketch::from_bytes(sketch.as_bytes()), Some(sketch));
        assert_eq!(Sketch::from_bytes(&[0; 10]), None);
        assert_eq!(Sketch::from_bytes(&[200; REGISTERS]), None);
    }
}
