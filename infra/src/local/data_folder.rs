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

use std::path::{Path, PathBuf};
use std::sync::Arc;

use millions_core::{Shard, ShardCount, UserId};

use super::shard_map::ShardMap;
use super::{EmbeddedDatabase, EmbeddedError};

/// The store files of one data folder.
#[derive(Clone)]
pub struct DataFolder {
    path: PathBuf,
    main: EmbeddedDatabase,
    shards: Shards,
}

impl DataFolder {
    /// Opens the folder at `path`, creating it with `new_shards` shards if it
    /// holds nothing yet. A folder that exists keeps its own shard map,
    /// whatever `new_shards` says; [`DataFolder::shards`] tells what it has.
    pub fn open(path: &Path, new_shards: ShardCount) -> Result<Self, EmbeddedError> {
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
                let map = if from_before_sharding {
                    ShardMap::single_file(EmbeddedDatabase::FILE_NAME)
                } else {
                    ShardMap::new(new_shards)
                };
                map.save(path)?;
                map
            }
        };
        let main = EmbeddedDatabase::open(path)?;
        let files = map
            .files
            .iter()
            .map(|file| {
                if file == EmbeddedDatabase::FILE_NAME {
                    // redb locks a file per process: share the one handle.
                    Ok(main.clone())
                } else {
                    EmbeddedDatabase::open_file(&path.join(file))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            path: path.to_owned(),
            main,
            shards: Shards {
                epoch: map.epoch,
                count: map.count(),
                files: files.into(),
            },
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store file of the tables that are not sharded.
    pub fn main(&self) -> &EmbeddedDatabase {
        &self.main
    }

    pub fn shards(&self) -> &Shards {
        &self.shards
    }
}

/// The shards of a data folder and the function that picks one for a key.
#[derive(Clone)]
pub struct Shards {
    epoch: u64,
    count: ShardCount,
    files: Arc<[EmbeddedDatabase]>,
}

impl Shards {
    pub fn count(&self) -> ShardCount {
        self.count
    }

    /// The epoch of the shard map these shards were opened from.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Every shard's store, by shard index.
    pub fn all(&self) -> &[EmbeddedDatabase] {
        &self.files
    }

    /// The shard that holds a user's record.
    pub fn of_user(&self, id: UserId) -> Shard {
        Shard::of_user(id, self.count)
    }

    /// The shard that holds a record keyed by text (a login's email).
    pub fn of_text(&self, key: &str) -> Shard {
        Shard::of_text(key, self.count)
    }

    pub fn store(&self, shard: Shard) -> &EmbeddedDatabase {
        &self.files[shard.index() as usize]
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
        assert_eq!(folder.shards().all()[0].path(), folder.main().path());
        assert!(!dir.path().join("shard-0.redb").exists());
    }
}
