//! The `Likes` port on the sharded embedded store.
//!
//! One table, keyed by (part key, liker id): the part key (`{liked}#{part}`,
//! see [`millions_core::likes`]) places a row on a shard, and every row of a
//! part is on that part's shard. The row with liker id 0 (no user has it) is
//! the part's counter; the others are the likes counted in it, each holding
//! when it was given. A like, or an unlike, then reads and writes rows of one
//! part only: one transaction on one store file, atomic and durable.
//!
//! During a move of keys between shard counts, a part moves whole, counter
//! and likes in one batch (`super::moving` keeps a part's rows together), so
//! the part is either at home or at its target. Writers find it by its
//! counter row, as users are found by their record; readers look at home
//! first, then at the target.

use async_trait::async_trait;
use millions_core::{CounterParts, Likes, Shard, StoreError, UserId};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::data_folder::{Layout, Shards, WriteGuard};
use super::database::{unavailable, EmbeddedDatabase};

/// (part key, liker id) → when the like was given (the counter row, liker 0:
/// the part's count), each a u64, little-endian.
pub(super) const LIKES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("likes");

/// The liker id of a part's counter row.
pub(super) const COUNTER: u64 = 0;

type LikesTable<'txn> = redb::Table<'txn, (&'static str, u64), &'static [u8]>;

/// Likes kept in the sharded embedded store.
#[derive(Clone)]
pub struct EmbeddedLikes {
    shards: Shards,
}

impl EmbeddedLikes {
    pub fn new(shards: Shards) -> Result<Self, StoreError> {
        create_tables(&shards.layout())?;
        Ok(Self { shards })
    }

    /// How many parts each count is split into, as the folder was made.
    pub fn parts(&self) -> CounterParts {
        self.shards.layout().counter_parts()
    }

    /// Runs `apply` on the rows of `part` in one write transaction on the
    /// part's shard, the layout held still and the mover kept off that part.
    async fn write_part<T, F>(&self, part: String, apply: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut LikesTable, &str) -> Result<T, StoreError> + Send + 'static,
    {
        let mut guard = self.shards.write_guard().await;
        let placement = guard.layout.of_text(&part);
        guard.hold(&self.shards, placement).await;
        let store = guard.layout.store(part_shard(&guard, &part)?).clone();
        let written = store
            .write_table(LIKES, move |table| apply(table, &part))
            .await;
        drop(guard);
        written
    }

    /// Reads `row` of `part` wherever the part is, with the part's counter
    /// (`None` if the part has no row anywhere).
    fn read_part(&self, part: &str, row: u64) -> Result<Option<PartRead>, StoreError> {
        loop {
            let layout = self.shards.layout();
            let placement = layout.of_text(part);
            let mut found = read_part_in(layout.store(placement.home), part, row)?;
            if found.is_none() && placement.moving() {
                found = read_part_in(layout.store(placement.target), part, row)?;
            }
            if found.is_some() || !self.shards.changed_since(layout.epoch()) {
                return Ok(found);
            }
        }
    }
}

/// Creates the table on every store of `layout`.
pub(super) fn create_tables(layout: &Layout) -> Result<(), StoreError> {
    layout
        .stores()
        .iter()
        .try_for_each(|store| store.create_table(LIKES))
}

/// What one store holds of a part: its count, and whether one row is there.
struct PartRead {
    count: u64,
    row_present: bool,
}

fn read_part_in(
    store: &EmbeddedDatabase,
    part: &str,
    row: u64,
) -> Result<Option<PartRead>, StoreError> {
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let table = txn.open_table(LIKES).map_err(unavailable)?;
    let Some(counter) = table.get((part, COUNTER)).map_err(unavailable)? else {
        return Ok(None);
    };
    // A count asks for the counter row itself: it was just read.
    let row_present = row == COUNTER || table.get((part, row)).map_err(unavailable)?.is_some();
    Ok(Some(PartRead {
        count: number(counter.value()),
        row_present,
    }))
}

/// The shard a part is written on under `guard`: home if it is there (or no
/// move concerns it), its target otherwise; a new part goes to its target.
fn part_shard(guard: &WriteGuard, part: &str) -> Result<Shard, StoreError> {
    let placement = guard.layout.of_text(part);
    if placement.moving() {
        let txn = guard
            .layout
            .store(placement.home)
            .handle()
            .begin_read()
            .map_err(unavailable)?;
        let table = txn.open_table(LIKES).map_err(unavailable)?;
        if table.get((part, COUNTER)).map_err(unavailable)?.is_none() {
            return Ok(placement.target);
        }
    }
    Ok(placement.home)
}

fn number(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_le_bytes)
}

/// Adds `change` to the part's counter, creating it at zero.
fn add_to_counter(table: &mut LikesTable, part: &str, change: i64) -> Result<(), StoreError> {
    let count = table
        .get((part, COUNTER))
        .map_err(unavailable)?
        .map_or(0, |bytes| number(bytes.value()));
    let next = count.saturating_add_signed(change).to_le_bytes();
    table
        .insert((part, COUNTER), next.as_slice())
        .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl Likes for EmbeddedLikes {
    async fn like(&self, liked: UserId, liker: UserId, at_ms: u64) -> Result<bool, StoreError> {
        let part = CounterParts::part_key(liked, self.parts().part_of(liker));
        self.write_part(part, move |table, part| {
            if table
                .get((part, liker.get()))
                .map_err(unavailable)?
                .is_some()
            {
                return Ok(false);
            }
            table
                .insert((part, liker.get()), at_ms.to_le_bytes().as_slice())
                .map_err(unavailable)?;
            add_to_counter(table, part, 1)?;
            Ok(true)
        })
        .await
    }

    async fn unlike(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        let part = CounterParts::part_key(liked, self.parts().part_of(liker));
        self.write_part(part, move |table, part| {
            if table
                .remove((part, liker.get()))
                .map_err(unavailable)?
                .is_none()
            {
                return Ok(false);
            }
            add_to_counter(table, part, -1)?;
            Ok(true)
        })
        .await
    }

    async fn likes(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        let part = CounterParts::part_key(liked, self.parts().part_of(liker));
        Ok(self
            .read_part(&part, liker.get())?
            .is_some_and(|read| read.row_present))
    }

    async fn count(&self, liked: UserId) -> Result<u64, StoreError> {
        let mut total = 0;
        for part in self.parts().part_keys(liked) {
            // Reads are lock-free lookups in memory-mapped files, microseconds
            // each, so the parts are read in turn, inline.
            total += self.read_part(&part, COUNTER)?.map_or(0, |read| read.count);
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use millions_core::ShardCount;

    use super::*;
    use crate::local::{DataFolder, EmbeddedUsers, MoveOptions, MoveState, Resharder};

    fn id(n: u64) -> UserId {
        UserId::new(n).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn likes_given_and_taken_back_during_a_move_are_all_counted() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DataFolder::open(dir.path(), ShardCount::new(4).unwrap()).unwrap();
        let users = EmbeddedUsers::new(folder.shards().clone()).unwrap();
        let likes = EmbeddedLikes::new(folder.shards().clone()).unwrap();
        let (star, other) = (id(7), id(8));
        // 2,000 likes of one user, 125 rows to a part, given 16 at a time.
        let givers = (0..16).map(|first| {
            let likes = likes.clone();
            tokio::spawn(async move {
                for liker in (1000 + first..3000).step_by(16) {
                    likes.like(star, id(liker), 1).await.unwrap();
                }
            })
        });
        for giver in givers.collect::<Vec<_>>() {
            giver.await.unwrap();
        }
        for liker in 1000..1050 {
            likes.like(other, id(liker), 1).await.unwrap();
        }
        // Small batches, so each moving part spans many of them, with pauses
        // between, so writes meet parts in the middle of their move.
        let options = MoveOptions {
            batch: 7,
            pause: Duration::from_millis(5),
        };
        // The likes taken back are in parts that move, highest ids first:
        // in each part, the last rows to move.
        let (from, to) = (ShardCount::new(4).unwrap(), ShardCount::new(5).unwrap());
        let moving: Vec<u64> = (1000..3000)
            .rev()
            .filter(|liker| {
                let part = CounterParts::part_key(star, likes.parts().part_of(id(*liker)));
                Shard::of_text(&part, from) != Shard::of_text(&part, to)
            })
            .collect();
        let mover = Resharder::new(users, options);
        mover.start(to).unwrap();
        let mut swapped = 0;
        while mover.status().state == MoveState::Moving {
            assert!(likes.like(star, id(10_000 + swapped), 2).await.unwrap());
            let liker = moving[swapped as usize];
            assert!(likes.unlike(star, id(liker)).await.unwrap(), "{liker}");
            // Counted exactly at every moment of the move.
            assert_eq!(likes.count(star).await.unwrap(), 2000);
            swapped += 1;
        }
        let status = mover.status();
        assert_eq!((status.state, status.shards), (MoveState::Settled, 5));
        assert!(status.keys_moved > 100, "{status:?}");
        assert!(swapped > 10, "only {swapped} swaps met the move");
        assert_eq!(likes.count(star).await.unwrap(), 2000);
        assert_eq!(likes.count(other).await.unwrap(), 50);
        let taken_back = &moving[..swapped as usize];
        for liker in 1000..3000 {
            let kept = !taken_back.contains(&liker);
            assert_eq!(likes.likes(star, id(liker)).await.unwrap(), kept, "{liker}");
        }
        for liker in 10_000..10_000 + swapped {
            assert!(likes.likes(star, id(liker)).await.unwrap(), "{liker}");
        }
    }
}
