//! The `Users` and `Accounts` ports on the embedded database: a users table
//! keyed by `user_id` and a logins table keyed by email, written together in
//! one transaction where both change.

use async_trait::async_trait;
use millions_core::auth::{AccountError, Accounts, Login, PasswordHash};
use millions_core::{
    Consistency, Email, StoreError, StoredUser, UserId, UserProfile, Users, Version,
};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::database::{unavailable, EmbeddedDatabase};
use super::records::{self, Format};

/// `user_id` → the user record, encoded with postcard (compact and several
/// times faster to decode than JSON on the read path).
const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// email → the login of that email's user.
const LOGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("logins");

type UsersTable<'txn> = redb::Table<'txn, u64, &'static [u8]>;

/// Users kept in the embedded database.
#[derive(Clone)]
pub struct EmbeddedUsers {
    db: EmbeddedDatabase,
}

impl EmbeddedUsers {
    pub fn new(db: EmbeddedDatabase) -> Result<Self, StoreError> {
        // Create the table up front so reads never meet a missing table.
        db.create_table(USERS)?;
        db.create_table(LOGINS)?;
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
        F: FnOnce(&mut UsersTable, &WriteTransaction) -> Result<(), StoreError> + Send + 'static,
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
                    apply(&mut table, &txn)?;
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
        self.conditional_write(id, None, move |table, _| {
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
        self.conditional_write(id, Some(expected), move |table, _| {
            table
                .insert(id.get(), bytes.as_slice())
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn delete(&self, current: &StoredUser) -> Result<(), StoreError> {
        let (id, email) = (current.id, current.email.clone());
        self.conditional_write(id, Some(current.version), move |table, txn| {
            table.remove(id.get()).map_err(unavailable)?;
            if let Some(email) = email {
                let mut logins = txn.open_table(LOGINS).map_err(unavailable)?;
                logins.remove(email.as_str()).map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl Accounts for EmbeddedUsers {
    async fn create(&self, user: &StoredUser, login: &Login) -> Result<(), AccountError> {
        let (id, user_bytes) = (user.id, encode(user));
        let email = login.email.clone();
        let login_bytes = records::encode(
            LOGIN_FORMAT,
            &LoginRecord {
                user_id: login.user_id,
                password_hash: login.password_hash.clone(),
            },
        );
        self.db
            .write(move |db| {
                let txn = db.begin_write().map_err(unavailable)?;
                {
                    let mut users = txn.open_table(USERS).map_err(unavailable)?;
                    let mut logins = txn.open_table(LOGINS).map_err(unavailable)?;
                    if logins.get(email.as_str()).map_err(unavailable)?.is_some() {
                        return Ok(Err(AccountError::EmailTaken));
                    }
                    if users.get(id.get()).map_err(unavailable)?.is_some() {
                        return Ok(Err(AccountError::IdTaken));
                    }
                    users
                        .insert(id.get(), user_bytes.as_slice())
                        .map_err(unavailable)?;
                    logins
                        .insert(email.as_str(), login_bytes.as_slice())
                        .map_err(unavailable)?;
                }
                txn.commit().map_err(unavailable)?;
                Ok(Ok(()))
            })
            .await?
    }

    async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError> {
        let txn = self.db.handle().begin_read().map_err(unavailable)?;
        let table = txn.open_table(LOGINS).map_err(unavailable)?;
        let Some(bytes) = table.get(email.as_str()).map_err(unavailable)? else {
            return Ok(None);
        };
        let record: LoginRecord = records::decode(LOGIN_FORMAT, bytes.value())?;
        Ok(Some(Login {
            email: email.clone(),
            user_id: record.user_id,
            password_hash: record.password_hash,
        }))
    }
}

/// A login as stored under its email.
#[derive(Serialize, Deserialize)]
struct LoginRecord {
    user_id: UserId,
    password_hash: PasswordHash,
}

const LOGIN_FORMAT: Format = Format(1);

/// The layout of user records written by this build: format 2 added the
/// login email. Format 1 records (no email) are still read.
const USER_FORMAT: Format = Format(2);
const USER_FORMAT_WITHOUT_EMAIL: Format = Format(1);

/// The format-1 layout, for records written before logins existed.
#[derive(Deserialize)]
struct UserWithoutEmail {
    id: UserId,
    version: Version,
    profile: UserProfile,
}

fn encode(user: &StoredUser) -> Vec<u8> {
    records::encode(USER_FORMAT, user)
}

fn decode(bytes: &[u8]) -> Result<StoredUser, StoreError> {
    if bytes.first() == Some(&USER_FORMAT_WITHOUT_EMAIL.0) {
        let old: UserWithoutEmail = records::decode(USER_FORMAT_WITHOUT_EMAIL, bytes)?;
        return Ok(StoredUser {
            id: old.id,
            version: old.version,
            profile: old.profile,
            email: None,
        });
    }
    records::decode(USER_FORMAT, bytes)
}
