//! The `Sessions` port on the embedded database, keyed by token hash.
//!
//! Like DynamoDB's TTL, a sweep removes expired sessions now and then
//! ([`EmbeddedSessions::sweep_expired`]); correctness never depends on it,
//! since the auth service checks expiry on every read.

use async_trait::async_trait;
use millions_core::auth::{Session, Sessions, TokenHash};
use millions_core::StoreError;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::database::{unavailable, EmbeddedDatabase};
use super::records::{self, Format};

const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
const SESSION_FORMAT: Format = Format(1);

#[derive(Clone)]
pub struct EmbeddedSessions {
    db: EmbeddedDatabase,
}

impl EmbeddedSessions {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        db.create_table(SESSIONS)?;
        Ok(Self { db })
    }

    /// Stores many sessions in one transaction, for seeding a benchmark with
    /// signed-in users. Existing hashes are overwritten.
    pub fn import(&self, sessions: &[Session]) -> Result<usize, StoreError> {
        let txn = self.db.handle().begin_write().map_err(unavailable)?;
        {
            let mut table = txn.open_table(SESSIONS).map_err(unavailable)?;
            for session in sessions {
                let bytes = records::encode(SESSION_FORMAT, session);
                table
                    .insert(session.token_hash.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
            }
        }
        txn.commit().map_err(unavailable)?;
        Ok(sessions.len())
    }

    /// Removes sessions that ended before `now` (Unix seconds); returns how many.
    pub async fn sweep_expired(&self, now: u64) -> Result<u64, StoreError> {
        self.db
            .write_table(SESSIONS, move |table| {
                let mut removed = 0;
                table
                    .retain(|_, bytes| {
                        let live = records::decode::<Session>(SESSION_FORMAT, bytes)
                            .is_ok_and(|session| session.expires_at > now);
                        removed += u64::from(!live);
                        live
                    })
                    .map_err(unavailable)?;
                Ok(removed)
            })
            .await
    }

    /// Reads the raw stored bytes of every session, to inspect what the
    /// store holds (tests use it to check no token is kept).
    pub fn raw_records(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let table = txn.open_table(SESSIONS).map_err(unavailable)?;
        table
            .iter()
            .map_err(unavailable)?
            .map(|entry| {
                let (key, value) = entry.map_err(unavailable)?;
                Ok((key.value().to_owned(), value.value().to_vec()))
            })
            .collect()
    }
}

#[async_trait]
impl Sessions for EmbeddedSessions {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        let key = session.token_hash.as_str().to_owned();
        let bytes = records::encode(SESSION_FORMAT, session);
        self.db
            .write_table(SESSIONS, move |table| {
                if table.get(key.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::AlreadyExists);
                }
                table
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let table = txn.open_table(SESSIONS).map_err(unavailable)?;
        let record = table.get(hash.as_str()).map_err(unavailable)?;
        record
            .map(|bytes| records::decode(SESSION_FORMAT, bytes.value()))
            .transpose()
    }

    async fn extend(&self, hash: &TokenHash, expires_at: u64) -> Result<(), StoreError> {
        let key = hash.as_str().to_owned();
        self.db
            .write_table(SESSIONS, move |table| {
                let current = table
                    .get(key.as_str())
                    .map_err(unavailable)?
                    .map(|bytes| records::decode::<Session>(SESSION_FORMAT, bytes.value()))
                    .transpose()?;
                let Some(mut session) = current else {
                    return Err(StoreError::NotFound);
                };
                session.expires_at = expires_at;
                let bytes = records::encode(SESSION_FORMAT, &session);
                table
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
                Ok(())
            })
            .await
    }

    async fn delete(&self, hash: &TokenHash) -> Result<(), StoreError> {
        let key = hash.as_str().to_owned();
        self.db
            .write_table(SESSIONS, move |table| {
                table.remove(key.as_str()).map_err(unavailable)?;
                Ok(())
            })
            .await
    }
}
