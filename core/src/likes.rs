//! Likes on a profile: who likes whom, and how many like each user.
//!
//! A celebrity's count is the write-hot key of the chapter's "celebrity
//! problem": thousands of people liking one profile at once would all
//! update one record, on one shard (one DynamoDB partition, capped at 1,000
//! write units a second), one commit after another. So each profile's count
//! is kept in [`CounterParts`] parts, K sub-counters whose keys
//! (`{user_id}#{part}`) hash to different shards, and summed on read. A like
//! is counted in the part its liker's id picks, and the like itself (the
//! record that makes liking idempotent) lives in the same part, so a like and
//! its increment are one single-shard, atomic write: a retried like never
//! counts twice and an unlike never takes away a like that was not there.
//!
//! Reading a count costs K point reads by keys known in advance (no scan, no
//! query across partitions), and the count is served through the edge cache
//! like a profile, so a hot count is read about once per cache lifetime.

use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::ports::{Clock, Consistency, StoreError, Users};
use crate::shards::{Shard, ShardCount};
use crate::users::UserError;

/// How many parts each profile's like count is split into: a store's
/// constant, fixed when its tables are created (a like is found again, to be
/// taken back, by the part its liker's id picks among this many).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CounterParts(NonZeroU32);

impl CounterParts {
    /// Enough to spread one profile's likes over every shard of a laptop's
    /// stack and over 16 DynamoDB partitions (16,000 writes a second).
    pub const DEFAULT: Self = Self(NonZeroU32::new(16).unwrap());

    /// The most parts: each costs a read of every count.
    pub const MAX: u32 = 256;

    /// `None` for zero or more than [`CounterParts::MAX`].
    pub fn new(parts: u32) -> Option<Self> {
        NonZeroU32::new(parts)
            .filter(|parts| parts.get() <= Self::MAX)
            .map(Self)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The part `liker`'s like of any profile is counted in. Spread by the
    /// shard function's hash, so likers fall evenly over the parts.
    pub fn part_of(self, liker: UserId) -> u32 {
        let parts = ShardCount::new(self.get()).expect("at least one part");
        Shard::of_key(liker.get(), parts).index()
    }

    /// The key of one part of `liked`'s count: the shard key (and DynamoDB
    /// partition key) of that part's counter and of the likes counted in it.
    pub fn part_key(liked: UserId, part: u32) -> String {
        format!("{liked}#{part}")
    }

    /// The keys of every part of `liked`'s count.
    pub fn part_keys(self, liked: UserId) -> impl Iterator<Item = String> {
        (0..self.get()).map(move |part| Self::part_key(liked, part))
    }
}

/// A part count that is not a whole number from 1 to [`CounterParts::MAX`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a counter's parts are a whole number from 1 to {max}, not {given:?}", max = CounterParts::MAX)]
pub struct InvalidCounterParts {
    given: String,
}

impl std::str::FromStr for CounterParts {
    type Err = InvalidCounterParts;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<u32>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| InvalidCounterParts {
                given: text.to_owned(),
            })
    }
}

impl Default for CounterParts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::fmt::Display for CounterParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The likes table: one record per (liked, liker) pair and one counter per
/// part of each liked user's count, each pair beside the counter of its part.
#[async_trait]
pub trait Likes: Send + Sync {
    /// Records that `liker` likes `liked` at `at_ms` and counts it, in one
    /// atomic write. `false`, and nothing changes, if it already did.
    async fn like(&self, liked: UserId, liker: UserId, at_ms: u64) -> Result<bool, StoreError>;

    /// Takes the like back and uncounts it, atomically. `false`, and nothing
    /// changes, if there was none.
    async fn unlike(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError>;

    /// Whether `liker` likes `liked`.
    async fn likes(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError>;

    /// How many users like `liked`: the sum of its parts.
    async fn count(&self, liked: UserId) -> Result<u64, StoreError>;
}

/// A profile's like count, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LikeCount {
    /// The liked user's id.
    pub user_id: UserId,
    /// How many users like them.
    pub likes: u64,
}

/// Whether a like was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liked {
    Now,
    Already,
}

/// Likes over any [`Likes`] store, checked against the users.
pub struct LikeService {
    likes: Arc<dyn Likes>,
    users: Arc<dyn Users>,
    clock: Arc<dyn Clock>,
}

impl LikeService {
    pub fn new(likes: Arc<dyn Likes>, users: Arc<dyn Users>, clock: Arc<dyn Clock>) -> Self {
        Self {
            likes,
            users,
            clock,
        }
    }

    /// `actor` likes `liked` as `liker`, which must be `actor` itself.
    pub async fn like(
        &self,
        actor: UserId,
        liked: UserId,
        liker: UserId,
    ) -> Result<Liked, UserError> {
        authorize(actor, liker)?;
        self.existing(liked).await?;
        let new = self.likes.like(liked, liker, self.clock.now_ms()).await?;
        Ok(if new { Liked::Now } else { Liked::Already })
    }

    /// `actor` takes back its like of `liked` (there may be none).
    pub async fn unlike(
        &self,
        actor: UserId,
        liked: UserId,
        liker: UserId,
    ) -> Result<(), UserError> {
        authorize(actor, liker)?;
        self.likes.unlike(liked, liker).await?;
        Ok(())
    }

    /// Whether `liker` likes `liked`.
    pub async fn likes(&self, liked: UserId, liker: UserId) -> Result<bool, UserError> {
        Ok(self.likes.likes(liked, liker).await?)
    }

    /// How many users like `liked`, who must exist.
    pub async fn count(&self, liked: UserId) -> Result<LikeCount, UserError> {
        self.existing(liked).await?;
        Ok(LikeCount {
            user_id: liked,
            likes: self.likes.count(liked).await?,
        })
    }

    async fn existing(&self, id: UserId) -> Result<(), UserError> {
        match self.users.get(id, Consistency::Eventual).await? {
            Some(_) => Ok(()),
            None => Err(UserError::NotFound(id)),
        }
    }
}

/// A like is given by its liker only.
fn authorize(actor: UserId, liker: UserId) -> Result<(), UserError> {
    if actor == liker {
        Ok(())
    } else {
        Err(UserError::ForbiddenLike { actor, liker })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likers_spread_evenly_over_the_parts() {
        let parts = CounterParts::DEFAULT;
        let mut counted = vec![0u32; parts.get() as usize];
        for id in 1..=16_000 {
            counted[parts.part_of(UserId::new(id).unwrap()) as usize] += 1;
        }
        // 1,000 each on average; a fair hash stays well within 15 %.
        for (part, count) in counted.iter().enumerate() {
            assert!((850..=1150).contains(count), "part {part} has {count}");
        }
    }

    #[test]
    fn one_part_holds_every_like() {
        let one = CounterParts::new(1).unwrap();
        assert!((1..1000).all(|id| one.part_of(UserId::new(id).unwrap()) == 0));
        assert_eq!(
            one.part_keys(UserId::new(7).unwrap()).collect::<Vec<_>>(),
            ["7#0"]
        );
    }

    #[test]
    fn part_counts_parse_from_1_to_256() {
        assert_eq!("16".parse(), Ok(CounterParts::DEFAULT));
        assert_eq!("256".parse::<CounterParts>().unwrap().get(), 256);
        for bad in ["0", "257", "-1", "x", ""] {
            assert!(bad.parse::<CounterParts>().is_err(), "{bad}");
        }
    }
}
