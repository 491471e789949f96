//! A data folder of the local stack: the main store file, for the tables
//! that are not sharded, and one store file per shard for those that are.
//!
//! Each store file is its own redb database with its own write lock, so
//! writes to different shards commit (and wait for `fsync`) in parallel,
//! where one file would queue them all behind a single writer.
//!
//! Which table lives where, and why, is in `docs/data-model.md`: users on
//! their `user_id`'s shard, logins on their email's shard; sessions, rate
//! limit counters, jobs and the queue in the main file.
//!
//! While keys move to a new shard count (`super::moving`), a key has two
//! candidate shards: its home under the old count, where it stays until it
//! moves, and its target under the new one. Three rules keep every read and
//! write correct during the move, without a lock on the read path:
//!
//! - the mover copies a batch to its targets and commits before it deletes
//!   it from home, so a key is always in at least one of the two;
//! - readers look at home first, then at the target: a key missing from home
//!   has already been committed at its target. A reader that misses under a
//!   layout older than the current one reads again under the new one;
//! - writers hold the *gate* (shared) for their whole write, so the layout
//!   cannot change under them, and during a move also their home shard's
//!   lock (shared), which the mover holds exclusively while it moves a batch
//!   out of that shard. A key present at home is written there, any other at
//!   its target; new keys always go to their target.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use millions_core::{CounterParts, Shard, ShardCount, StoreError, UserId};
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock as AsyncRwLock};

use super::shard_map::ShardMap;
use super::{EmbeddedDatabase, EmbeddedError};

/// The store files of one data folder.
#[derive(Clone)]
pub struct DataFolder {
    main: EmbeddedDatabase,
    shards: Shards,
}

impl DataFolder {
    /// Opens the folder at `path`, creating it with `new_shards` shards if it
    /// holds nothing yet. A folder that exists keeps its own shard map,
    /// whatever `new_shards` says; [`DataFolder::shards`] tells what it has.
    pub fn open(path: &Path, new_shards: ShardCount) -> Result<Self, EmbeddedError> {
        Self::open_with(path, new_shards, CounterParts::DEFAULT)
    }

    /// [`DataFolder::open`], and a new folder's like counts are split into
    /// `new_parts` parts (an existing folder keeps its own).
    pub fn open_with(
        path: &Path,
        new_shards: ShardCount,
        new_parts: CounterParts,
    ) -> Result<Self, EmbeddedError> {
        std::fs::create_dir_all(path).map_err(|source| EmbeddedError::CreateFolder {
            path: path.to_owned(),
            source,
        })?;
        let map = match ShardMap::load(path)? {
            Some(map) => map,
            None => {
                // Decide before the main file exists: after a crash between
                // creating it and saving the map, a folder created for N
                // shards would otherwise read as one from before sharding.
                let from_before_sharding = path.join(EmbeddedDatabase::FILE_NAME).exists();
                let mut map = if from_before_sharding {
                    ShardMap::single_file(EmbeddedDatabase::FILE_NAME)
                } else {
                    ShardMap::new(new_shards)
                };
                map.counter_parts = new_parts;
                map.save(path)?;
                map
            }
        };
        let main = EmbeddedDatabase::open(path)?;
        let shards = Shards {
            inner: Arc::new(ShardsInner {
                folder: path.to_owned(),
                main: main.clone(),
                layout: RwLock::new(Arc::new(Layout::open(path, &main, map, &[])?)),
                epoch: AtomicU64::new(0),
                gate: Arc::new(AsyncRwLock::new(())),
                locks: (0..ShardCount::MAX)
                    .map(|_| Arc::new(AsyncRwLock::new(())))
                    .collect(),
            }),
        };
        shards
            .inner
            .epoch
            .store(shards.layout().epoch(), Ordering::SeqCst);
        Ok(Self { main, shards })
    }

    pub fn path(&self) -> &Path {
        &self.shards.inner.folder
    }

    /// The store file of the tables that are not sharded.
    pub fn main(&self) -> &EmbeddedDatabase {
        &self.main
    }

    pub fn shards(&self) -> &Shards {
        &self.shards
    }
}

/// The shards of a data folder and the rules that place a key on one.
#[derive(Clone)]
pub struct Shards {
    inner: Arc<ShardsInner>,
}

struct ShardsInner {
    folder: PathBuf,
    main: EmbeddedDatabase,
    layout: RwLock<Arc<Layout>>,
    /// The current layout's epoch, readable without the lock (readers check
    /// it after a miss).
    epoch: AtomicU64,
    /// Shared by every write, exclusive while the layout changes.
    gate: Arc<AsyncRwLock<()>>,
    /// One per shard index: shared by writers of keys at home there during a
    /// move, exclusive while the mover moves a batch out of it.
    locks: Vec<Arc<AsyncRwLock<()>>>,
}

/// The shards as they are at one epoch: settled on one count, or moving
/// from one count to another.
pub struct Layout {
    map: ShardMap,
    from: ShardCount,
    to: Option<ShardCount>,
    /// By shard index, as many as the larger of the two counts.
    stores: Vec<EmbeddedDatabase>,
}

/// A key's candidate shards: equal unless a move changes its shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub home: Shard,
    pub target: Shard,
}

impl Placement {
    pub fn moving(self) -> bool {
        self.home != self.target
    }
}

impl Layout {
    /// Opens the stores `map` names, reusing the handles already open.
    fn open(
        folder: &Path,
        main: &EmbeddedDatabase,
        map: ShardMap,
        open: &[EmbeddedDatabase],
    ) -> Result<Self, EmbeddedError> {
        let from = map.count();
        let to = map.target();
        let files = match &map.moving_to {
            Some(target) if target.len() > map.files.len() => target,
            _ => &map.files,
        };
        let stores = files
            .iter()
            .map(|file| {
                let path = folder.join(file);
                if let Some(store) = open.iter().find(|store| store.path() == path) {
                    Ok(store.clone())
                } else if file == EmbeddedDatabase::FILE_NAME {
                    // redb locks a file per process: share the one handle.
                    Ok(main.clone())
                } else {
                    EmbeddedDatabase::open_file(&path)
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            map,
            from,
            to,
            stores,
        })
    }

    pub fn epoch(&self) -> u64 {
        self.map.epoch
    }

    /// The shard map this layout was opened from.
    pub fn map(&self) -> &ShardMap {
        &self.map
    }

    /// How many parts each like count is split into.
    pub fn counter_parts(&self) -> CounterParts {
        self.map.counter_parts
    }

    /// The shard count keys are placed by (the old one, during a move).
    pub fn count(&self) -> ShardCount {
        self.from
    }

    /// The count keys are moving to, during a move.
    pub fn target(&self) -> Option<ShardCount> {
        self.to
    }

    /// Every store of this layout, by shard index.
    pub fn stores(&self) -> &[EmbeddedDatabase] {
        &self.stores
    }

    pub fn store(&self, shard: Shard) -> &EmbeddedDatabase {
        &self.stores[shard.index() as usize]
    }

    pub fn of_user(&self, id: UserId) -> Placement {
        self.of_key(id.get())
    }

    pub fn of_key(&self, key: u64) -> Placement {
        let home = Shard::of_key(key, self.from);
        let target = self.to.map_or(home, |to| Shard::of_key(key, to));
        Placement { home, target }
    }

    pub fn of_text(&self, key: &str) -> Placement {
        let home = Shard::of_text(key, self.from);
        let target = self.to.map_or(home, |to| Shard::of_text(key, to));
        Placement { home, target }
    }
}

/// What a writer holds for the length of its write: the layout cannot
/// change, and no batch moves out of the shards it locked.
pub struct WriteGuard {
    pub layout: Arc<Layout>,
    _gate: OwnedRwLockReadGuard<()>,
    homes: Vec<(Shard, OwnedRwLockReadGuard<()>)>,
}

impl WriteGuard {
    /// Keeps the mover off `placement`'s home shard while this guard lives,
    /// if a move concerns it. A home already held is not locked again: a
    /// second shared lock could wait behind the mover's queued exclusive one,
    /// which waits for the first. Lock homes in ascending shard order.
    pub async fn hold(&mut self, shards: &Shards, placement: Placement) {
        let held = self.homes.iter().any(|(home, _)| *home == placement.home);
        if placement.moving() && !held {
            let lock = Arc::clone(&shards.inner.locks[placement.home.index() as usize]);
            self.homes.push((placement.home, lock.read_owned().await));
        }
    }
}

impl Shards {
    /// The layout now.
    pub fn layout(&self) -> Arc<Layout> {
        Arc::clone(
            &self
                .inner
                .layout
                .read()
                .expect("the layout lock is never poisoned"),
        )
    }

    /// The data folder the shards' files are in.
    pub fn folder(&self) -> &Path {
        &self.inner.folder
    }

    /// Whether the layout has changed since the one at `epoch`.
    pub fn changed_since(&self, epoch: u64) -> bool {
        self.inner.epoch.load(Ordering::SeqCst) != epoch
    }

    pub fn count(&self) -> ShardCount {
        self.layout().count()
    }

    pub fn epoch(&self) -> u64 {
        self.layout().epoch()
    }

    /// Starts a write: the returned guard keeps the layout as it is.
    pub async fn write_guard(&self) -> WriteGuard {
        let gate = Arc::clone(&self.inner.gate).read_owned().await;
        WriteGuard {
            layout: self.layout(),
            _gate: gate,
            homes: Vec::new(),
        }
    }

    /// Keeps writers off `shard` while a batch moves out of it.
    pub(crate) async fn lock_for_moving(&self, shard: Shard) -> OwnedRwLockWriteGuard<()> {
        Arc::clone(&self.inner.locks[shard.index() as usize])
            .write_owned()
            .await
    }

    /// Replaces the map (and the layout) with `next`, durably, once every
    /// write under the current layout has finished; writers wait meanwhile. Stores `next` no longer
    /// names are closed when the last reader lets go of them; their files
    /// are deleted.
    /// `prepare` runs on the new layout's stores before anything can use
    /// them (to create their tables).
    pub(crate) async fn change_map(
        &self,
        next: impl FnOnce(&ShardMap) -> ShardMap,
        prepare: impl FnOnce(&Layout) -> Result<(), StoreError>,
    ) -> Result<Arc<Layout>, StoreError> {
        let _gate = self.inner.gate.write().await;
        let current = self.layout();
        let map = next(&current.map);
        let layout = Layout::open(&self.inner.folder, &self.inner.main, map, &current.stores)
            .map_err(StoreError::unavailable)?;
        prepare(&layout)?;
        layout
            .map
            .save(&self.inner.folder)
            .map_err(StoreError::unavailable)?;
        let layout = Arc::new(layout);
        *self
            .inner
            .layout
            .write()
            .expect("the layout lock is never poisoned") = Arc::clone(&layout);
        self.inner.epoch.store(layout.epoch(), Ordering::SeqCst);
        for store in &current.stores {
            let kept = layout.stores.iter().any(|kept| kept.path() == store.path());
            if !kept && store.path() != self.inner.main.path() {
                std::fs::remove_file(store.path()).map_err(StoreError::unavailable)?;
            }
        }
        Ok(layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(n: u32) -> ShardCount {
        ShardCount::new(n).unwrap()
    }

    #[test]
    fn a_new_folder_gets_one_file_per_shard() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DataFolder::open(dir.path(), count(4)).unwrap();
        assert_eq!(folder.shards().count(), count(4));
        assert_eq!(folder.shards().epoch(), 1);
        for shard in 0..4 {
            assert!(dir.path().join(format!("shard-{shard}.redb")).exists());
        }
        assert!(dir.path().join(EmbeddedDatabase::FILE_NAME).exists());
    }

    #[test]
    fn an_existing_folder_keeps_its_map() {
        let dir = tempfile::tempdir().unwrap();
        drop(DataFolder::open(dir.path(), count(3)).unwrap());
        let reopened = DataFolder::open(dir.path(), count(8)).unwrap();
        assert_eq!(reopened.shards().count(), count(3));
    }

    #[test]
    fn a_folder_from_before_sharding_is_one_shard_in_its_main_file() {
        let dir = tempfile::tempdir().unwrap();
        drop(EmbeddedDatabase::open(dir.path()).unwrap());
        let folder = DataFolder::open(dir.path(), count(4)).unwrap();
        assert_eq!(folder.shards().count(), count(1));
        assert_eq!(
            folder.shards().layout().stores()[0].path(),
            folder.main().path()
        );
        assert!(!dir.path().join("shard-0.redb").exists());
    }
}
