//! Opening the embedded database file and running its blocking transactions
//! off the async runtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use millions_core::StoreError;
use redb::{Database, TableDefinition};

/// Why the embedded database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot create the data folder {path}")]
    CreateFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database {path} (is another instance of the local stack using it?)")]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    #[error(transparent)]
    ShardMap(#[from] super::shard_map::ShardMapError),
}

/// One store file of the local stack (the main file or a shard's).
#[derive(Clone)]
pub struct EmbeddedDatabase {
    db: Arc<Database>,
    path: PathBuf,
}

impl EmbeddedDatabase {
    /// Memory each store file may cache pages in. redb's default is 1 GiB
    /// per file, which with a file per shard let the stack's resident memory
    /// grow to 795 MiB over a million users; past this bound reads come from
    /// the kernel's page cache, which is shared and evictable.
    pub const CACHE_BYTES: usize = 32 * 1024 * 1024;

    /// File name of the main store file inside the data folder.
    pub const FILE_NAME: &'static str = "millions.redb";

    /// Opens (creating if needed) the main store file in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, EmbeddedError> {
        std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedError::CreateFolder {
            path: data_dir.to_owned(),
            source,
        })?;
        Self::open_file(&data_dir.join(Self::FILE_NAME))
    }

    /// Opens (creating if needed) the store file at `path`, in a folder that exists.
    pub fn open_file(path: &Path) -> Result<Self, EmbeddedError> {
        let db = Database::builder()
            .set_cache_size(Self::CACHE_BYTES)
            .create(path)
            .map_err(|source| EmbeddedError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            db: Arc::new(db),
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn handle(&self) -> &Database {
        &self.db
    }

    /// Runs a write transaction on tokio's blocking pool: a commit waits for
    /// `fsync`, which must not stall the threads serving requests.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(StoreError::unavailable)?
    }
}

impl EmbeddedDatabase {
    /// Creates `table` if it is missing, so later reads never meet a missing table.
    pub(crate) fn create_table<K, V>(&self, table: TableDefinition<K, V>) -> Result<(), StoreError>
    where
        K: redb::Key + 'static,
        V: redb::Value + 'static,
    {
        let txn = self.db.begin_write().map_err(unavailable)?;
        txn.open_table(table).map_err(unavailable)?;
        txn.commit().map_err(unavailable)
    }

    /// Runs `work` on one table in a write transaction and commits it, unless
    /// `work` fails (the transaction is then dropped, which aborts it).
    pub(crate) async fn write_table<K, V, T, F>(
        &self,
        table: TableDefinition<'static, K, V>,
        work: F,
    ) -> Result<T, StoreError>
    where
        K: redb::Key + Send + 'static,
        V: redb::Value + Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut redb::Table<K, V>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let result = work(&mut txn.open_table(table).map_err(unavailable)?)?;
            txn.commit().map_err(unavailable)?;
            Ok(result)
        })
        .await
    }
}

/// Every redb failure means the same to a caller: the store could not answer.
pub(crate) fn unavailable(error: impl Into<redb::Error>) -> StoreError {
    StoreError::unavailable(error.into())
}
