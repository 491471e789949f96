//! Moving keys to a new shard count while the store serves: online
//! resharding, in the manner of Vitess's workflow (copy, then switch), per
//! batch of keys.
//!
//! 1. **Start**: the map records the target count (epoch + 1) and the new
//!    shards' files are created empty. From then on, new keys go to their
//!    target shard and every other key stays where it is until it moves.
//! 2. **Copy and delete, batch by batch**: for each old shard, the mover
//!    takes the shard's lock (writers of keys at home there wait for a few
//!    milliseconds), reads up to a batch of keys whose shard changes,
//!    commits them at their targets, then deletes them from home.
//!    Consistent hashing keeps the batch small: going from N to M shards
//!    moves about |M − N| / max(M, N) of the keys, and only those are read
//!    twice.
//! 3. **Switch**: once no old shard holds a key that should move, the map
//!    names the target shards alone (epoch + 1), and the files of shards
//!    that no longer exist are deleted.
//!
//! A crash at any moment leaves a consistent folder: before the switch a
//! key is at home, at its target, or (between a copy and its delete) at
//! both, where the home copy is the current one, since writers write at
//! home while a key is there. On restart the move resumes from the map
//! (`resume`), and the copy overwrites a stale target copy.

use std::ops::Bound;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use millions_core::{Shard, ShardCount, StoreError};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::data_folder::{Layout, Placement};
use super::database::{unavailable, EmbeddedDatabase};
use super::faults::pause_point;
use super::likes::{self, LIKES};
use super::shard_map::ShardMap;
use super::users::{rows_in, EmbeddedUsers, LOGINS, RELEASES_IN_FLIGHT, SIGNUPS_IN_FLIGHT, USERS};

/// How a move proceeds.
#[derive(Debug, Clone, Copy)]
pub struct MoveOptions {
    /// Keys moved per batch, while writers of that shard wait.
    pub batch: usize,
    /// Rest between batches, so a move shares the disk with the traffic.
    pub pause: Duration,
}

impl Default for MoveOptions {
    fn default() -> Self {
        Self {
            batch: 1000,
            pause: Duration::from_millis(2),
        }
    }
}

/// What a move is doing, for the admin API and the progress bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoveStatus {
    /// `settled`, `moving`, or `failed` (with `error`).
    pub state: MoveState,
    pub epoch: u64,
    pub shards: u32,
    /// The count keys are moving to.
    pub target: Option<u32>,
    /// Keys of every sharded table moved so far, and to move in all.
    pub keys_moved: u64,
    pub keys_to_move: u64,
    /// Users moved, and users stored when the move started.
    pub users_moved: u64,
    pub users: u64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MoveState {
    #[default]
    Settled,
    Moving,
    Failed,
}

/// Why a move was not started.
#[derive(Debug, thiserror::Error)]
pub enum MoveRefusal {
    #[error("keys are already moving to {0} shards; wait for that move to finish")]
    Busy(ShardCount),
}

/// Runs moves on one store, one at a time, and reports on them.
#[derive(Clone)]
pub struct Resharder {
    users: EmbeddedUsers,
    options: MoveOptions,
    status: Arc<Mutex<MoveStatus>>,
}

impl Resharder {
    pub fn new(users: EmbeddedUsers, options: MoveOptions) -> Self {
        let layout = users.shards.layout();
        let status = MoveStatus {
            epoch: layout.epoch(),
            shards: layout.count().get(),
            ..MoveStatus::default()
        };
        Self {
            users,
            options,
            status: Arc::new(Mutex::new(status)),
        }
    }

    /// How many users each shard holds (see [`EmbeddedUsers::count_by_shard`]).
    pub fn users_by_shard(&self) -> Result<Vec<u64>, StoreError> {
        self.users.count_by_shard()
    }

    pub fn status(&self) -> MoveStatus {
        self.status.lock().expect("never poisoned").clone()
    }

    /// Starts moving keys to `target` shards in the background (a move
    /// already going there is left to run).
    pub fn start(&self, target: ShardCount) -> Result<(), MoveRefusal> {
        // A move the map records (one that failed) goes on to its own target.
        if let Some(pending) = self.users.shards.layout().target() {
            if pending != target {
                return Err(MoveRefusal::Busy(pending));
            }
        }
        {
            let mut status = self.status.lock().expect("never poisoned");
            if status.state == MoveState::Moving {
                return match status.target {
                    Some(going) if going == target.get() => Ok(()),
                    _ => Err(MoveRefusal::Busy(
                        status.target.and_then(ShardCount::new).unwrap_or(target),
                    )),
                };
            }
            *status = MoveStatus {
                state: MoveState::Moving,
                epoch: status.epoch,
                shards: status.shards,
                target: Some(target.get()),
                ..MoveStatus::default()
            };
        }
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run(target).await;
            let mut status = this.status.lock().expect("never poisoned");
            let layout = this.users.shards.layout();
            status.epoch = layout.epoch();
            status.shards = layout.count().get();
            match outcome {
                Ok(()) => {
                    status.state = MoveState::Settled;
                    status.target = None;
                    tracing::info!(
                        shards = status.shards,
                        keys = status.keys_moved,
                        users = status.users_moved,
                        "keys moved to {} shards",
                        status.shards
                    );
                }
                Err(error) => {
                    tracing::error!(%error, "moving keys to {target} shards failed; restart the stack to resume");
                    status.state = MoveState::Failed;
                    status.error = Some(error.to_string());
                }
            }
        });
        Ok(())
    }

    /// Resumes the move a previous run of the stack left unfinished, if any.
    pub fn resume(&self) {
        if let Some(target) = self.users.shards.layout().target() {
            tracing::info!(%target, "resuming the move of keys to {target} shards");
            self.start(target)
                .expect("nothing else is moving at start-up");
        }
    }

    async fn run(&self, target: ShardCount) -> Result<(), StoreError> {
        let shards = &self.users.shards;
        let mut layout = shards.layout();
        if layout.target().is_none() {
            if layout.count() == target {
                return Ok(());
            }
            let folder = shards.folder().to_owned();
            let next = layout.map().start_move(target);
            // A file left by an earlier shrink holds stale keys: start empty.
            for file in next.moving_to.iter().flatten() {
                if !next.files.contains(file) {
                    match std::fs::remove_file(folder.join(file)) {
                        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                            return Err(StoreError::unavailable(error))
                        }
                        _ => {}
                    }
                }
            }
            layout = shards
                .change_map(
                    |_| next,
                    |layout| {
                        self.users.create_tables(layout)?;
                        likes::create_tables(layout)
                    },
                )
                .await?;
        }
        self.count_keys_to_move(&layout)?;
        pause_point("reshard:started").await;
        for home in layout.count().shards() {
            for table in MovedTable::ALL {
                self.move_table(&layout, home, table).await?;
            }
        }
        shards.change_map(ShardMap::finish_move, |_| Ok(())).await?;
        Ok(())
    }

    /// Counts what the move will carry, for its progress.
    fn count_keys_to_move(&self, layout: &Layout) -> Result<(), StoreError> {
        let mut users_to_move = 0;
        let mut keys = 0;
        for home in layout.count().shards() {
            for table in MovedTable::ALL {
                let count = table.keys_to_move(layout, home)?;
                keys += count;
                if table == MovedTable::Users {
                    users_to_move += count;
                }
            }
        }
        let users = self.users.count()?;
        let mut status = self.status.lock().expect("never poisoned");
        status.epoch = layout.epoch();
        status.keys_to_move = keys;
        // A resumed move counts what is left, not what moved before the crash.
        status.users = users;
        status.users_moved = 0;
        tracing::info!(
            users,
            users_to_move,
            keys,
            "moving {keys} keys ({users_to_move} of {users} users)"
        );
        Ok(())
    }

    /// Moves every key of `table` whose shard changes out of `home`.
    async fn move_table(
        &self,
        layout: &Arc<Layout>,
        home: Shard,
        table: MovedTable,
    ) -> Result<(), StoreError> {
        let mut after: Option<OwnedKey> = None;
        loop {
            let lock = self.users.shards.lock_for_moving(home).await;
            let (layout_now, start) = (Arc::clone(layout), after.take());
            let batch = self.options.batch;
            let (rows, next, done) =
                blocking(move || table.collect(&layout_now, home, start, batch)).await?;
            let moved = rows.len() as u64;
            if !rows.is_empty() {
                let layout_now = Arc::clone(layout);
                let keys: Vec<OwnedKey> = rows.iter().map(|(key, ..)| key.clone()).collect();
                blocking(move || table.copy(&layout_now, rows)).await?;
                pause_point("reshard:batch-copied").await;
                let store = layout.store(home).clone();
                blocking(move || table.delete(&store, keys)).await?;
            }
            drop(lock);
            {
                let mut status = self.status.lock().expect("never poisoned");
                status.keys_moved += moved;
                if table == MovedTable::Users {
                    status.users_moved += moved;
                }
            }
            if done {
                return Ok(());
            }
            after = next;
            tokio::time::sleep(self.options.pause).await;
        }
    }
}

/// Runs store work on tokio's blocking pool: commits wait for `fsync`.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(StoreError::unavailable)?
}

/// The sharded tables, in the order a shard's keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MovedTable {
    Users,
    Releases,
    Logins,
    SignupsInFlight,
    Likes,
}

impl MovedTable {
    const ALL: [Self; 5] = [
        Self::Users,
        Self::Releases,
        Self::Logins,
        Self::SignupsInFlight,
        Self::Likes,
    ];

    fn collect(
        self,
        layout: &Layout,
        home: Shard,
        after: Option<OwnedKey>,
        batch: usize,
    ) -> Result<(Rows, Option<OwnedKey>, bool), StoreError> {
        let store = layout.store(home);
        match self {
            Self::Users => collect(store, USERS, layout, home, after, batch),
            Self::Releases => collect(store, RELEASES_IN_FLIGHT, layout, home, after, batch),
            Self::Logins => collect(store, LOGINS, layout, home, after, batch),
            Self::SignupsInFlight => collect(store, SIGNUPS_IN_FLIGHT, layout, home, after, batch),
            Self::Likes => collect(store, LIKES, layout, home, after, batch),
        }
    }

    fn copy(self, layout: &Layout, rows: Rows) -> Result<(), StoreError> {
        match self {
            Self::Users => copy(layout, USERS, rows),
            Self::Releases => copy(layout, RELEASES_IN_FLIGHT, rows),
            Self::Logins => copy(layout, LOGINS, rows),
            Self::SignupsInFlight => copy(layout, SIGNUPS_IN_FLIGHT, rows),
            Self::Likes => copy(layout, LIKES, rows),
        }
    }

    fn delete(self, store: &EmbeddedDatabase, keys: Vec<OwnedKey>) -> Result<(), StoreError> {
        match self {
            Self::Users => delete(store, USERS, keys),
            Self::Releases => delete(store, RELEASES_IN_FLIGHT, keys),
            Self::Logins => delete(store, LOGINS, keys),
            Self::SignupsInFlight => delete(store, SIGNUPS_IN_FLIGHT, keys),
            Self::Likes => delete(store, LIKES, keys),
        }
    }

    fn keys_to_move(self, layout: &Layout, home: Shard) -> Result<u64, StoreError> {
        let store = layout.store(home);
        match self {
            Self::Users => keys_to_move(store, USERS, layout, home),
            Self::Releases => keys_to_move(store, RELEASES_IN_FLIGHT, layout, home),
            Self::Logins => keys_to_move(store, LOGINS, layout, home),
            Self::SignupsInFlight => keys_to_move(store, SIGNUPS_IN_FLIGHT, layout, home),
            Self::Likes => keys_to_move(store, LIKES, layout, home),
        }
    }
}

/// A key of any sharded table, owned, as a batch carries it.
#[derive(Debug, Clone)]
enum OwnedKey {
    Number(u64),
    Text(String),
    /// A like's key: the part's key and the liker.
    Pair(String, u64),
}

type Rows = Vec<(OwnedKey, Vec<u8>, Shard)>;

/// A key type of a sharded table.
trait MovableKey: redb::Key + 'static {
    fn owned(key: Self::SelfType<'_>) -> OwnedKey;
    fn borrowed(key: &OwnedKey) -> Self::SelfType<'_>;
    fn placement(key: &OwnedKey, layout: &Layout) -> Placement;
    /// Whether two keys must move in the same batch (rows of one part of a
    /// like count: the part is then always whole on one shard).
    fn same_group(_: &OwnedKey, _: &OwnedKey) -> bool {
        false
    }
}

impl MovableKey for u64 {
    fn owned(key: u64) -> OwnedKey {
        OwnedKey::Number(key)
    }
    fn borrowed(key: &OwnedKey) -> u64 {
        match key {
            OwnedKey::Number(key) => *key,
            _ => unreachable!("a numbered table's batch holds numbers"),
        }
    }
    fn placement(key: &OwnedKey, layout: &Layout) -> Placement {
        layout.of_key(Self::borrowed(key))
    }
}

impl MovableKey for &'static str {
    fn owned(key: &str) -> OwnedKey {
        OwnedKey::Text(key.to_owned())
    }
    fn borrowed(key: &OwnedKey) -> &str {
        match key {
            OwnedKey::Text(key) => key,
            _ => unreachable!("a text-keyed table's batch holds text"),
        }
    }
    fn placement(key: &OwnedKey, layout: &Layout) -> Placement {
        layout.of_text(Self::borrowed(key))
    }
}

impl MovableKey for (&'static str, u64) {
    fn owned((part, liker): (&str, u64)) -> OwnedKey {
        OwnedKey::Pair(part.to_owned(), liker)
    }
    fn borrowed(key: &OwnedKey) -> (&str, u64) {
        match key {
            OwnedKey::Pair(part, liker) => (part, *liker),
            _ => unreachable!("a pair-keyed table's batch holds pairs"),
        }
    }
    fn placement(key: &OwnedKey, layout: &Layout) -> Placement {
        layout.of_text(Self::borrowed(key).0)
    }
    fn same_group(one: &OwnedKey, other: &OwnedKey) -> bool {
        Self::borrowed(one).0 == Self::borrowed(other).0
    }
}

/// Reads, from the key after `after` on, about `batch` rows of `home` whose
/// shard changes (more if a group would be split); returns them with the last key read and whether the
/// table has no more.
fn collect<K: MovableKey>(
    store: &EmbeddedDatabase,
    table: TableDefinition<'static, K, &'static [u8]>,
    layout: &Layout,
    home: Shard,
    after: Option<OwnedKey>,
    batch: usize,
) -> Result<(Rows, Option<OwnedKey>, bool), StoreError> {
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let table = txn.open_table(table).map_err(unavailable)?;
    let lower = match &after {
        Some(key) => Bound::Excluded(K::borrowed(key)),
        None => Bound::Unbounded,
    };
    let mut rows: Rows = Vec::new();
    let mut last = after.clone();
    for row in table
        .range::<K::SelfType<'_>>((lower, Bound::Unbounded))
        .map_err(unavailable)?
    {
        let (key, value) = row.map_err(unavailable)?;
        let key = K::owned(key.value());
        // A full batch ends before the next key, unless that key must move
        // with the last one taken.
        let full = rows.len() >= batch;
        if full
            && !rows
                .last()
                .is_some_and(|(taken, ..)| K::same_group(taken, &key))
        {
            return Ok((rows, last, false));
        }
        let target = K::placement(&key, layout).target;
        last = Some(key.clone());
        if target != home {
            rows.push((key, value.value().to_vec(), target));
        }
    }
    Ok((rows, last, true))
}

/// Commits a batch at its target shards (over any copy a crash left there).
fn copy<K: MovableKey>(
    layout: &Layout,
    table: TableDefinition<'static, K, &'static [u8]>,
    rows: Rows,
) -> Result<(), StoreError> {
    let mut by_target: Vec<Vec<(OwnedKey, Vec<u8>)>> = vec![Vec::new(); layout.stores().len()];
    for (key, value, target) in rows {
        by_target[target.index() as usize].push((key, value));
    }
    for (store, rows) in layout.stores().iter().zip(by_target) {
        if rows.is_empty() {
            continue;
        }
        let txn = store.handle().begin_write().map_err(unavailable)?;
        {
            let mut table = txn.open_table(table).map_err(unavailable)?;
            for (key, value) in &rows {
                table
                    .insert(K::borrowed(key), value.as_slice())
                    .map_err(unavailable)?;
            }
        }
        txn.commit().map_err(unavailable)?;
    }
    Ok(())
}

/// Deletes a copied batch from its home shard.
fn delete<K: MovableKey>(
    store: &EmbeddedDatabase,
    table: TableDefinition<'static, K, &'static [u8]>,
    keys: Vec<OwnedKey>,
) -> Result<(), StoreError> {
    let txn = store.handle().begin_write().map_err(unavailable)?;
    {
        let mut table = txn.open_table(table).map_err(unavailable)?;
        for key in &keys {
            table.remove(K::borrowed(key)).map_err(unavailable)?;
        }
    }
    txn.commit().map_err(unavailable)
}

/// How many rows of `home` a move under `layout` carries away.
fn keys_to_move<K: MovableKey>(
    store: &EmbeddedDatabase,
    table: TableDefinition<'static, K, &'static [u8]>,
    layout: &Layout,
    home: Shard,
) -> Result<u64, StoreError> {
    if rows_in(store, table)? == 0 {
        return Ok(0);
    }
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let table = txn.open_table(table).map_err(unavailable)?;
    let mut count = 0;
    for row in table.iter().map_err(unavailable)? {
        let (key, _) = row.map_err(unavailable)?;
        if K::placement(&K::owned(key.value()), layout).target != home {
            count += 1;
        }
    }
    Ok(count)
}
