//! The `Users` port on the embedded database: one redb table keyed by `user_id`.

use async_trait::async_trait;
use millions_core::{Consistency, StoreError, StoredUser, UserId, Users, Version};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::database::{unavailable, EmbeddedDatabase};

/// `user_id` → the user record, encoded with postcard (compact and several
/// times faster to decode than JSON on the read path).
const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");

/// Users kept in the embedded database.
#[derive(Clone)]
pub struct EmbeddedUsers {
    db: EmbeddedDatabase,
}

impl EmbeddedUsers {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        // Create the table up front so reads never meet a missing table.
        let txn = db.handle().begin_write().map_err(unavailable)?;
        txn.open_table(USERS).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(Self { db })
    }

    /// Loads many users in one transaction (one `fsync`), for seeding a
    /// benchmark or a demo. Existing ids are overwritten.
    pub fn import(&self, users: impl IntoIterator<Item = StoredUser>) -> Result<usize, StoreError> {
        let txn = self.db.handle().begin_write().map_err(unavailable)?;
        let mut count = 0;
        {
            let mut table = txn.open_table(USERS).map_err(unavailable)?;
            for user in users {
                table
                    .insert(user.id.get(), encode(&user).as_slice())
                    .map_err(unavailable)?;
                count += 1;
            }
        }
        txn.commit().map_err(unavailable)?;
        Ok(count)
    }

    /// How many users are stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata;
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        txn.open_table(USERS)
            .map_err(unavailable)?
            .len()
            .map_err(unavailable)
    }

    /// Checks the current record of `id` against `expected` (`None`: the id
    /// must be free; `Some(v)`: the record must be at version `v`) and runs
    /// `apply` in the same write transaction, so check and write are atomic.
    async fn conditional_write<F>(
        &self,
        id: UserId,
        expected: Option<Version>,
        apply: F,
    ) -> Result<(), StoreError>
    where
        F: FnOnce(&mut redb::Table<u64, &[u8]>) -> Result<(), StoreError> + Send + 'static,
    {
        self.db
            .write(move |db| {
                let txn = db.begin_write().map_err(unavailable)?;
                {
                    let mut table = txn.open_table(USERS).map_err(unavailable)?;
                    let current = table
                        .get(id.get())
                        .map_err(unavailable)?
                        .map(|bytes| decode(bytes.value()))
                        .transpose()?;
                    match (current, expected) {
                        (Some(_), None) => return Err(StoreError::AlreadyExists),
                        (None, Some(_)) => return Err(StoreError::NotFound),
                        (Some(current), Some(expected)) if current.version != expected => {
                            return Err(StoreError::VersionMismatch {
                                current: current.version,
                            })
                        }
                        _ => {}
                    }
                    apply(&mut table)?;
                }
                txn.commit().map_err(unavailable)
            })
            .await
    }
}

#[async_trait]
impl Users for EmbeddedUsers {
    async fn insert(&self, user: &StoredUser) -> Result<(), StoreError> {
        let (id, bytes) = (user.id, encode(user));
        self.conditional_write(id, None, move |table| {
            table
                .insert(id.get(), bytes.as_slice())
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn get(&self, id: UserId, _: Consistency) -> Result<Option<StoredUser>, StoreError> {
        // One copy of the data, so every read is strongly consistent. Reads run
        // inline: they are lock-free MVCC lookups in a memory-mapped file,
        // microseconds long, cheaper than a hop to the blocking pool.
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let table = txn.open_table(USERS).map_err(unavailable)?;
        let record = table.get(id.get()).map_err(unavailable)?;
        record.map(|bytes| decode(bytes.value())).transpose()
    }

    async fn replace(&self, user: &StoredUser, expected: Version) -> Result<(), StoreError> {
        let (id, bytes) = (user.id, encode(user));
        self.conditional_write(id, Some(expected), move |table| {
            table
                .insert(id.get(), bytes.as_slice())
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn delete(&self, id: UserId, expected: Version) -> Result<(), StoreError> {
        self.conditional_write(id, Some(expected), move |table| {
            table.remove(id.get()).map(drop).map_err(unavailable)
        })
        .await
    }
}

/// The first byte of every record. postcard is not self-describing, so a
/// change to `StoredUser` bumps this and teaches `decode` the old layout.
const RECORD_FORMAT: u8 = 1;

/// A record written in a layout this build does not know.
#[derive(Debug, thiserror::Error)]
#[error("a user record has format {0}; this build reads format {RECORD_FORMAT}")]
struct UnknownRecordFormat(u8);

fn encode(user: &StoredUser) -> Vec<u8> {
    postcard::to_extend(user, vec![RECORD_FORMAT]).expect("a user record always serializes")
}

fn decode(bytes: &[u8]) -> Result<StoredUser, StoreError> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, record)) => {
            postcard::from_bytes(record).map_err(StoreError::unavailable)
        }
        Some((&format, _)) => Err(StoreError::unavailable(UnknownRecordFormat(format))),
        None => Err(StoreError::unavailable(UnknownRecordFormat(0))),
    }
}
