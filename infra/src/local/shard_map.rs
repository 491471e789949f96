//! The shard map of a data folder: which store files hold the sharded
//! tables, under which epoch.
//!
//! It is a small JSON file (`shards.json`) beside the store files, so a
//! person can read it, and it is replaced atomically (written to a temporary
//! file, flushed, renamed over the old one, and the folder flushed), so a
//! crash leaves either the old map or the new one, never half of each. The
//! epoch grows by one with every change, so a reader can tell two maps apart.
//!
//! A folder written before sharding existed has one store file and no map:
//! it reads as one shard held by that file, so it keeps its data and its map.

use std::io::Write;
use std::path::{Path, PathBuf};

use millions_core::{CounterParts, Shard, ShardCount};
use serde::{Deserialize, Serialize};

/// The map as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMap {
    /// Grows by one with every change of the map.
    pub epoch: u64,
    /// The store file of each shard, by shard index, relative to the folder.
    pub files: Vec<String>,
    /// While keys move to another shard count: the store file of each shard
    /// of that count. A key is then on its shard under `files` until it has
    /// moved, and on its shard under `moving_to` after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moving_to: Option<Vec<String>>,
    /// How many parts each like count is split into: fixed for the folder's
    /// life, since a like is found again by the part its liker picks.
    /// (Folders from before likes have none, so any count fits them.)
    #[serde(default, rename = "counterParts")]
    pub counter_parts: CounterParts,
}

/// Why the map could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ShardMapError {
    #[error("cannot read the shard map {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the shard map {path} is not valid")]
    Invalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the shard map {path} names no shard")]
    Empty { path: PathBuf },
    #[error("cannot write the shard map {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ShardMap {
    /// File name of the map inside the data folder.
    pub const FILE_NAME: &'static str = "shards.json";

    /// The map of a new folder with `count` shards, at epoch 1.
    pub fn new(count: ShardCount) -> Self {
        Self {
            epoch: 1,
            files: count.shards().map(Self::file_of).collect(),
            moving_to: None,
            counter_parts: CounterParts::DEFAULT,
        }
    }

    /// The map of a folder from before sharding: its one store file is the
    /// only shard.
    pub fn single_file(file: &str) -> Self {
        Self {
            epoch: 1,
            files: vec![file.to_owned()],
            moving_to: None,
            counter_parts: CounterParts::DEFAULT,
        }
    }

    /// The store file that a shard added to a folder gets.
    pub fn file_of(shard: Shard) -> String {
        format!("shard-{}.redb", shard.index())
    }

    pub fn count(&self) -> ShardCount {
        count_of(&self.files)
    }

    /// The shard count keys are moving to, if a move is under way.
    pub fn target(&self) -> Option<ShardCount> {
        self.moving_to.as_deref().map(count_of)
    }

    /// The next map: keys start moving to `count` shards. Shards the current
    /// count has keep their files; new ones get new files.
    pub fn start_move(&self, count: ShardCount) -> Self {
        let target = count
            .shards()
            .map(|shard| {
                self.files
                    .get(shard.index() as usize)
                    .cloned()
                    .unwrap_or_else(|| Self::file_of(shard))
            })
            .collect();
        Self {
            epoch: self.epoch + 1,
            files: self.files.clone(),
            moving_to: Some(target),
            counter_parts: self.counter_parts,
        }
    }

    /// The next map: every key has moved, the target is the map.
    pub fn finish_move(&self) -> Self {
        Self {
            epoch: self.epoch + 1,
            files: self.moving_to.clone().unwrap_or_else(|| self.files.clone()),
            moving_to: None,
            counter_parts: self.counter_parts,
        }
    }

    /// Reads the map of `folder`, or `None` if the folder has none yet.
    pub fn load(folder: &Path) -> Result<Option<Self>, ShardMapError> {
        let path = folder.join(Self::FILE_NAME);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ShardMapError::Read { path, source }),
        };
        let map: Self = serde_json::from_slice(&text).map_err(|source| ShardMapError::Invalid {
            path: path.clone(),
            source,
        })?;
        if map.files.is_empty() || map.moving_to.as_ref().is_some_and(Vec::is_empty) {
            return Err(ShardMapError::Empty { path });
        }
        Ok(Some(map))
    }

    /// Replaces the map of `folder` with this one, atomically and durably.
    pub fn save(&self, folder: &Path) -> Result<(), ShardMapError> {
        let path = folder.join(Self::FILE_NAME);
        let temporary = folder.join(format!("{}.tmp", Self::FILE_NAME));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temporary)?;
            serde_json::to_writer_pretty(&mut file, self)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)?;
            // The rename is durable once the folder's entry is.
            std::fs::File::open(folder)?.sync_all()
        };
        write().map_err(|source| ShardMapError::Write { path, source })
    }
}

fn count_of(files: &[String]) -> ShardCount {
    let count = u32::try_from(files.len()).expect("fewer than 2^32 shards");
    ShardCount::new(count).expect("a read map names at least one shard")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_map_loads_back() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(ShardMap::load(folder.path()).unwrap(), None);
        let map = ShardMap::new(ShardCount::new(3).unwrap());
        map.save(folder.path()).unwrap();
        assert_eq!(ShardMap::load(folder.path()).unwrap(), Some(map.clone()));
        assert_eq!(map.files, ["shard-0.redb", "shard-1.redb", "shard-2.redb"]);
        assert_eq!(map.count().get(), 3);
    }

    #[test]
    fn a_move_keeps_the_files_of_the_shards_both_counts_have() {
        let map = ShardMap::single_file("millions.redb");
        let moving = map.start_move(ShardCount::new(3).unwrap());
        assert_eq!(moving.epoch, 2);
        assert_eq!(moving.files, ["millions.redb"]);
        assert_eq!(
            moving.moving_to.as_deref().unwrap(),
            ["millions.redb", "shard-1.redb", "shard-2.redb"]
        );
        let done = moving.finish_move();
        assert_eq!(done.counter_parts, map.counter_parts);
        assert_eq!(
            (done.epoch, done.count().get(), done.target()),
            (3, 3, None)
        );
        let shrinking = done.start_move(ShardCount::new(2).unwrap());
        assert_eq!(
            shrinking.moving_to.as_deref().unwrap(),
            ["millions.redb", "shard-1.redb"]
        );
    }

    #[test]
    fn a_map_without_shards_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(
            folder.path().join(ShardMap::FILE_NAME),
            r#"{"epoch":2,"files":[]}"#,
        )
        .unwrap();
        let error = ShardMap::load(folder.path()).unwrap_err();
        assert!(matches!(error, ShardMapError::Empty { .. }), "{error}");
    }
}
