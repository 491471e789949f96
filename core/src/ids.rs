//! Time-ordered user ids that any instance in any region can mint alone.
//!
//! Layout (53 bits, so JavaScript numbers hold every id exactly):
//!
//! ```text
//!  52                    12 11      7 6        0
//! +------------------------+---------+----------+
//! | ms since 2025-01-01    | node    | sequence |
//! |        41 bits         | 5 bits  | 7 bits   |
//! +------------------------+---------+----------+
//! ```
//!
//! 41 bits of milliseconds last about 69 years. The node number comes from
//! configuration or is picked at random when an instance starts (Lambda
//! instances cannot coordinate), so two instances may share one; creation is
//! therefore a conditional write that fails on an existing id, and the caller
//! mints a fresh id and tries again. Ids stay roughly time-ordered, which keeps
//! recent users close together in ordered stores.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Milliseconds between the Unix epoch and 2025-01-01T00:00:00Z.
pub const EPOCH_MS: u64 = 1_735_689_600_000;
const NODE_BITS: u32 = 5;
const SEQUENCE_BITS: u32 = 7;
const TIMESTAMP_BITS: u32 = 41;
/// Number of distinct node numbers.
pub const NODES: u16 = 1 << NODE_BITS;
const MAX_SEQUENCE: u16 = (1 << SEQUENCE_BITS) - 1;
/// The largest id: 2^53 - 1, the largest integer a JavaScript number holds exactly.
pub const MAX_ID: u64 = (1 << (TIMESTAMP_BITS + NODE_BITS + SEQUENCE_BITS)) - 1;

/// A user's id, which is also the partition (shard) key of the user's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "u64", into = "u64")]
#[cfg_attr(feature = "openapi", schema(value_type = u64, minimum = 1, maximum = 9_007_199_254_740_991_u64, example = 12))]
pub struct UserId(u64);

/// Why a text or number is not a user id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUserId {
    #[error("a user id is a positive whole number, like 12")]
    NotANumber,
    #[error("a user id lies between 1 and 9007199254740991")]
    OutOfRange,
}

impl UserId {
    pub fn new(value: u64) -> Result<Self, InvalidUserId> {
        if value == 0 || value > MAX_ID {
            Err(InvalidUserId::OutOfRange)
        } else {
            Ok(Self(value))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// Milliseconds since the Unix epoch at which the id was minted.
    pub fn minted_at_ms(self) -> u64 {
        (self.0 >> (NODE_BITS + SEQUENCE_BITS)) + EPOCH_MS
    }
}

impl TryFrom<u64> for UserId {
    type Error = InvalidUserId;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<UserId> for u64 {
    fn from(id: UserId) -> u64 {
        id.0
    }
}

impl FromStr for UserId {
    type Err = InvalidUserId;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // `u64::from_str` accepts a leading '+'; an id in a URL is digits only.
        if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidUserId::NotANumber);
        }
        let value: u64 = text.parse().map_err(|_| InvalidUserId::OutOfRange)?;
        Self::new(value)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Mints [`UserId`]s for one instance. Thread-safe; the caller supplies the time
/// so the generator stays free of clocks and testable.
#[derive(Debug)]
pub struct IdGenerator {
    node: u16,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_ms: u64,
    sequence: u16,
}

/// The generator ran out of ids for the current millisecond; ask again once
/// the clock has moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("all ids of this millisecond are taken")]
pub struct Exhausted;

impl IdGenerator {
    /// `node` is reduced modulo [`NODES`].
    pub fn new(node: u16) -> Self {
        Self {
            node: node % NODES,
            state: Mutex::new(State::default()),
        }
    }

    pub fn node(&self) -> u16 {
        self.node
    }

    /// The next id at wall-clock time `now_ms` (milliseconds since the Unix epoch).
    /// A clock that steps backwards does not produce duplicates: the generator
    /// keeps counting from the latest millisecond it has seen.
    pub fn next_id(&self, now_ms: u64) -> Result<UserId, Exhausted> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let now = now_ms.saturating_sub(EPOCH_MS).max(1);
        if now > state.last_ms {
            state.last_ms = now;
            state.sequence = 0;
        } else if state.sequence == MAX_SEQUENCE {
            return Err(Exhausted);
        } else {
            state.sequence += 1;
        }
        let raw = (state.last_ms << (NODE_BITS + SEQUENCE_BITS))
            | (u64::from(self.node) << SEQUENCE_BITS)
            | u64::from(state.sequence);
        Ok(UserId(raw & MAX_ID))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const NOW: u64 = 1_790_000_000_000;

    #[test]
    fn ids_are_unique_and_increasing_within_one_generator() {
        let generator = IdGenerator::new(3);
        let mut previous = 0;
        let mut seen = HashSet::new();
        for i in 0..1000 {
            let id = generator
                .next_id(NOW + i / 100)
                .unwrap_or_else(|_| panic!("exhausted at {i}"));
            assert!(id.get() > previous, "{id} after {previous}");
            previous = id.get();
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn ids_fit_in_a_javascript_number() {
        let generator = IdGenerator::new(31);
        // The last millisecond the layout can express.
        let far_future = EPOCH_MS + (1 << TIMESTAMP_BITS) - 1;
        let id = generator.next_id(far_future).unwrap();
        assert!(id.get() <= MAX_ID);
        assert_eq!(MAX_ID, 9_007_199_254_740_991);
    }

    #[test]
    fn a_millisecond_holds_128_ids_then_reports_exhaustion() {
        let generator = IdGenerator::new(0);
        for _ in 0..128 {
            generator.next_id(NOW).unwrap();
        }
        assert_eq!(generator.next_id(NOW), Err(Exhausted));
        assert!(generator.next_id(NOW + 1).is_ok());
    }

    #[test]
    fn a_clock_stepping_back_never_repeats_an_id() {
        let generator = IdGenerator::new(1);
        let a = generator.next_id(NOW).unwrap();
        let b = generator.next_id(NOW - 5_000).unwrap();
        assert!(b > a);
    }

    #[test]
    fn different_nodes_mint_different_ids_in_the_same_millisecond() {
        let a = IdGenerator::new(1).next_id(NOW).unwrap();
        let b = IdGenerator::new(2).next_id(NOW).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.minted_at_ms(), NOW);
    }

    #[test]
    fn parsing_rejects_anything_but_digits_in_range() {
        assert_eq!("12".parse::<UserId>().unwrap().get(), 12);
        for bad in ["", "abc", "-1", "+5", "1.5", " 7", "1e3"] {
            assert_eq!(
                bad.parse::<UserId>(),
                Err(InvalidUserId::NotANumber),
                "{bad:?}"
            );
        }
        assert_eq!("0".parse::<UserId>(), Err(InvalidUserId::OutOfRange));
        assert_eq!(
            "9007199254740992".parse::<UserId>(),
            Err(InvalidUserId::OutOfRange)
        );
        assert_eq!(
            "99999999999999999999".parse::<UserId>(),
            Err(InvalidUserId::OutOfRange)
        );
    }
}
