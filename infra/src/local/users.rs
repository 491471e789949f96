//! The `Users` and `Accounts` ports on the sharded embedded store: users on
//! their `user_id`'s shard, logins on their email's shard (during a move of
//! keys between shard counts, wherever [`super::data_folder`]'s rules put
//! them).
//!
//! Where a user and its login share a shard, both are written in one
//! transaction. Where they do not, there is no transaction across the two
//! store files, so sign-up and delete are two-step writes that leave an
//! intent record beside their first step and remove it after their last. A
//! crash between the steps leaves the intent behind, and opening the store
//! finishes or undoes that write before anything else runs:
//!
//! - sign-up reserves the email first (the login, plus an in-flight record
//!   beside it), then writes the user, then drops the record. While the
//!   record is there the email is taken and the login cannot be used.
//!   Recovery keeps the login if the user was written and removes it if
//!   not, so no email is taken twice, no user is left without its login, and
//!   no login points at nobody.
//! - delete removes the user and writes a release record beside it in one
//!   transaction, then removes the login, then the record. Recovery removes
//!   the login the record names.
//!
//! [`super::faults`] names the moments between the steps, for the crash tests.

use async_trait::async_trait;
use millions_core::auth::{AccountError, Accounts, Login, PasswordHash};
use millions_core::{
    Consistency, Email, Shard, StoreError, StoredUser, UserId, UserProfile, Users, Version,
};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::data_folder::{Layout, Placement, Shards, WriteGuard};
use super::database::{unavailable, EmbeddedDatabase};
use super::faults::pause_point;
use super::records::{self, Format};

/// `user_id` → the user record, encoded with postcard (compact and several
/// times faster to decode than JSON on the read path).
pub(super) const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// email → the login of that email's user.
pub(super) const LOGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("logins");
/// email → `user_id` (8 bytes, big-endian) of a sign-up whose user may not
/// be written yet; beside the login.
pub(super) const SIGNUPS_IN_FLIGHT: TableDefinition<&str, &[u8]> =
    TableDefinition::new("signups_in_flight");
/// `user_id` → the email (UTF-8) of a deleted user whose login may still be
/// there; where the user was.
pub(super) const RELEASES_IN_FLIGHT: TableDefinition<u64, &[u8]> =
    TableDefinition::new("releases_in_flight");

type UsersTable<'txn> = redb::Table<'txn, u64, &'static [u8]>;

/// Users kept in the sharded embedded store.
#[derive(Clone)]
pub struct EmbeddedUsers {
    pub(super) shards: Shards,
}

impl EmbeddedUsers {
    /// Opens the tables on every shard and settles any two-step write that
    /// a crash interrupted.
    pub fn new(shards: Shards) -> Result<Self, StoreError> {
        let users = Self { shards };
        users.create_tables(&users.shards.layout())?;
        let recovered = users.recover()?;
        if recovered != Recovered::default() {
            tracing::warn!(?recovered, "settled the writes a crash interrupted");
        }
        Ok(users)
    }

    /// Creates the tables on every store of `layout`, so reads never meet a
    /// missing table.
    pub(super) fn create_tables(&self, layout: &Layout) -> Result<(), StoreError> {
        for store in layout.stores() {
            store.create_table(USERS)?;
            store.create_table(LOGINS)?;
            store.create_table(SIGNUPS_IN_FLIGHT)?;
            store.create_table(RELEASES_IN_FLIGHT)?;
        }
        Ok(())
    }

    /// Loads many users, one transaction (one `fsync`) per shard, the shards
    /// in parallel: for seeding a benchmark or a demo. Existing ids are
    /// overwritten. Refused while keys move between shard counts.
    pub fn import(&self, users: impl IntoIterator<Item = StoredUser>) -> Result<usize, StoreError> {
        let layout = self.shards.layout();
        if layout.target().is_some() {
            return Err(StoreError::unavailable(MoveUnderWay));
        }
        let mut by_shard: Vec<Vec<StoredUser>> = vec![Vec::new(); layout.stores().len()];
        for user in users {
            by_shard[layout.of_user(user.id).home.index() as usize].push(user);
        }
        std::thread::scope(|scope| {
            let loads: Vec<_> = layout
                .stores()
                .iter()
                .zip(by_shard)
                .map(|(store, users)| scope.spawn(move || import_into(store, users)))
                .collect();
            loads
                .into_iter()
                .map(|load| load.join().expect("an import thread does not panic"))
                .sum()
        })
    }

    /// How many users are stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        Ok(self.count_by_shard()?.iter().sum())
    }

    /// How many users each store file holds, by shard index (during a move,
    /// the stores of both counts): what tells a hot or lopsided shard.
    pub fn count_by_shard(&self) -> Result<Vec<u64>, StoreError> {
        self.shards
            .layout()
            .stores()
            .iter()
            .map(|store| rows_in(store, USERS))
            .collect()
    }

    /// Reads `id`'s record wherever it is: at home, or during a move at its
    /// target if it is no longer at home. A miss under a layout that has
    /// since changed is read again under the new one.
    pub(super) fn read(&self, id: UserId) -> Result<Option<StoredUser>, StoreError> {
        loop {
            let layout = self.shards.layout();
            let placement = layout.of_user(id);
            let mut found = read_user_in(layout.store(placement.home), id)?;
            if found.is_none() && placement.moving() {
                found = read_user_in(layout.store(placement.target), id)?;
            }
            if found.is_some() || !self.shards.changed_since(layout.epoch()) {
                return Ok(found);
            }
        }
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
        let mut guard = self.shards.write_guard().await;
        let placement = guard.layout.of_user(id);
        guard.hold(&self.shards, placement).await;
        let store = guard.layout.store(user_shard(&guard, id)?).clone();
        let written = conditional_write_in(&store, id, expected, apply).await;
        drop(guard);
        written
    }
}

/// [`EmbeddedUsers::import`] while keys move between shard counts.
#[derive(Debug, thiserror::Error)]
#[error("keys are moving between shard counts; start the stack to finish the move, then seed")]
struct MoveUnderWay;

/// The shard `id`'s record is written on under `guard`: home if it is there
/// (or no move concerns it), its target otherwise; new ids go to their target.
fn user_shard(guard: &WriteGuard, id: UserId) -> Result<Shard, StoreError> {
    let placement = guard.layout.of_user(id);
    if placement.moving() && !has_key(guard.layout.store(placement.home), USERS, id.get())? {
        return Ok(placement.target);
    }
    Ok(placement.home)
}

/// The shard an email's login (and its in-flight record) is written on.
fn email_shard(guard: &WriteGuard, email: &str) -> Result<Shard, StoreError> {
    let placement = guard.layout.of_text(email);
    if placement.moving() && !email_taken_in(guard.layout.store(placement.home), email)? {
        return Ok(placement.target);
    }
    Ok(placement.home)
}

async fn conditional_write_in<F>(
    store: &EmbeddedDatabase,
    id: UserId,
    expected: Option<Version>,
    apply: F,
) -> Result<(), StoreError>
where
    F: FnOnce(&mut UsersTable, &WriteTransaction) -> Result<(), StoreError> + Send + 'static,
{
    store
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
        self.read(id)
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
        self.delete_user(current).await
    }
}

#[async_trait]
impl Accounts for EmbeddedUsers {
    async fn create(&self, user: &StoredUser, login: &Login) -> Result<(), AccountError> {
        let email = login.email.clone();
        let login_bytes = records::encode(
            LOGIN_FORMAT,
            &LoginRecord {
                user_id: login.user_id,
                password_hash: login.password_hash.clone(),
            },
        );
        let guard = self.guard_user_and_email(user.id, email.as_str()).await;
        let user_store = guard.layout.store(user_shard(&guard, user.id)?).clone();
        let login_store = guard
            .layout
            .store(email_shard(&guard, email.as_str())?)
            .clone();
        if user_store.path() == login_store.path() {
            return create_in_one_store(&user_store, user, email, login_bytes).await;
        }
        reserve_email(&login_store, &email, user.id, login_bytes).await??;
        pause_point("signup:email-reserved").await;
        let (id, user_bytes) = (user.id, encode(user));
        let written = user_store
            .write(move |db| {
                let txn = db.begin_write().map_err(unavailable)?;
                {
                    let mut users = txn.open_table(USERS).map_err(unavailable)?;
                    if users.get(id.get()).map_err(unavailable)?.is_some() {
                        return Ok(Err(AccountError::IdTaken));
                    }
                    users
                        .insert(id.get(), user_bytes.as_slice())
                        .map_err(unavailable)?;
                }
                txn.commit().map_err(unavailable)?;
                Ok(Ok(()))
            })
            .await;
        let email = email.as_str().to_owned();
        let settled = match written {
            Ok(Ok(())) => {
                pause_point("signup:user-written").await;
                settle_signup(&login_store, email, None)
                    .await
                    .map(|()| Ok(()))
            }
            // Undo the reservation; if that fails too, the next start does.
            Ok(Err(refusal)) => settle_signup(&login_store, email, Some(id))
                .await
                .map(|()| Err(refusal)),
            Err(error) => {
                let _ = settle_signup(&login_store, email, Some(id)).await;
                Err(error)
            }
        };
        drop(guard);
        settled?
    }

    async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError> {
        loop {
            let layout = self.shards.layout();
            let placement = layout.of_text(email.as_str());
            let mut found = read_login_in(layout.store(placement.home), email)?;
            if found == LoginRead::Absent && placement.moving() {
                found = read_login_in(layout.store(placement.target), email)?;
            }
            match found {
                LoginRead::Found(login) => return Ok(Some(login)),
                // Its user may not exist yet: not usable until it does.
                LoginRead::InFlight => return Ok(None),
                LoginRead::Absent if !self.shards.changed_since(layout.epoch()) => return Ok(None),
                LoginRead::Absent => {}
            }
        }
    }
}

impl EmbeddedUsers {
    /// A write guard holding the home shards of a user and an email, in
    /// ascending order so two writers never wait on each other in a cycle.
    async fn guard_user_and_email(&self, id: UserId, email: &str) -> WriteGuard {
        let mut guard = self.shards.write_guard().await;
        let mut placements = [guard.layout.of_user(id), guard.layout.of_text(email)];
        placements.sort_by_key(|placement| placement.home);
        for placement in placements {
            guard.hold(&self.shards, placement).await;
        }
        guard
    }

    /// Removes a user and releases its email, as [`Users::delete`] does.
    async fn delete_user(&self, current: &StoredUser) -> Result<(), StoreError> {
        let (id, version) = (current.id, current.version);
        let Some(email) = current.email.clone() else {
            return self
                .conditional_write(id, Some(version), move |table, _| {
                    table.remove(id.get()).map(drop).map_err(unavailable)
                })
                .await;
        };
        let guard = self.guard_user_and_email(id, email.as_str()).await;
        let user_store = guard.layout.store(user_shard(&guard, id)?).clone();
        let login_store = guard
            .layout
            .store(email_shard(&guard, email.as_str())?)
            .clone();
        let address = email.as_str().to_owned();
        if user_store.path() == login_store.path() {
            return conditional_write_in(&user_store, id, Some(version), move |table, txn| {
                table.remove(id.get()).map_err(unavailable)?;
                let mut logins = txn.open_table(LOGINS).map_err(unavailable)?;
                logins
                    .remove(address.as_str())
                    .map(drop)
                    .map_err(unavailable)
            })
            .await;
        }
        let recorded = address.clone();
        conditional_write_in(&user_store, id, Some(version), move |table, txn| {
            table.remove(id.get()).map_err(unavailable)?;
            let mut releases = txn.open_table(RELEASES_IN_FLIGHT).map_err(unavailable)?;
            releases
                .insert(id.get(), recorded.as_bytes())
                .map(drop)
                .map_err(unavailable)
        })
        .await?;
        pause_point("delete:user-removed").await;
        login_store
            .write(move |db| release_email_in(db, &address, id))
            .await?;
        user_store
            .write_table(RELEASES_IN_FLIGHT, move |releases| {
                releases.remove(id.get()).map(drop).map_err(unavailable)
            })
            .await?;
        drop(guard);
        Ok(())
    }

    /// Finishes or undoes every two-step write a crash interrupted. Runs
    /// before the store serves anything (and before a move resumes), so
    /// nothing races it.
    fn recover(&self) -> Result<Recovered, StoreError> {
        let mut recovered = Recovered::default();
        let layout = self.shards.layout();
        for store in layout.stores() {
            let txn = store.handle().begin_read().map_err(unavailable)?;
            let signups: Vec<(String, u64)> = txn
                .open_table(SIGNUPS_IN_FLIGHT)
                .map_err(unavailable)?
                .iter()
                .map_err(unavailable)?
                .map(|row| row.map(|(email, id)| (email.value().to_owned(), id_of(id.value()))))
                .collect::<Result<_, _>>()
                .map_err(unavailable)?;
            let releases: Vec<(u64, String)> = txn
                .open_table(RELEASES_IN_FLIGHT)
                .map_err(unavailable)?
                .iter()
                .map_err(unavailable)?
                .map(|row| {
                    row.map(|(id, email)| {
                        (
                            id.value(),
                            String::from_utf8_lossy(email.value()).into_owned(),
                        )
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(unavailable)?;
            drop(txn);
            for (email, id) in signups {
                let id = UserId::new(id).map_err(StoreError::unavailable)?;
                let user_written = self
                    .read(id)?
                    .is_some_and(|user| user.email.as_ref().map(Email::as_str) == Some(&email));
                let undo = (!user_written).then_some(id);
                settle_signup_in(store.handle(), &email, undo)?;
                if user_written {
                    recovered.signups_finished += 1;
                } else {
                    recovered.signups_undone += 1;
                }
            }
            for (id, email) in releases {
                let user = UserId::new(id).map_err(StoreError::unavailable)?;
                for shard in candidates(layout.of_text(&email)) {
                    release_email_in(layout.store(shard).handle(), &email, user)?;
                }
                let txn = store.handle().begin_write().map_err(unavailable)?;
                txn.open_table(RELEASES_IN_FLIGHT)
                    .map_err(unavailable)?
                    .remove(id)
                    .map_err(unavailable)?;
                txn.commit().map_err(unavailable)?;
                recovered.releases_finished += 1;
            }
        }
        Ok(recovered)
    }
}

/// The user id of an in-flight sign-up record (0, which no user has, if the
/// record is damaged).
fn id_of(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_be_bytes)
}

/// What [`EmbeddedUsers::recover`] found and settled.
#[derive(Debug, Default, PartialEq, Eq)]
struct Recovered {
    signups_finished: usize,
    signups_undone: usize,
    releases_finished: usize,
}

/// Home, and the target too if it differs.
fn candidates(placement: Placement) -> impl Iterator<Item = Shard> {
    std::iter::once(placement.home).chain(placement.moving().then_some(placement.target))
}

fn read_user_in(store: &EmbeddedDatabase, id: UserId) -> Result<Option<StoredUser>, StoreError> {
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let table = txn.open_table(USERS).map_err(unavailable)?;
    let record = table.get(id.get()).map_err(unavailable)?;
    record.map(|bytes| decode(bytes.value())).transpose()
}

/// A login as one store has it.
#[derive(Debug, PartialEq, Eq)]
enum LoginRead {
    Found(Login),
    InFlight,
    Absent,
}

fn read_login_in(store: &EmbeddedDatabase, email: &Email) -> Result<LoginRead, StoreError> {
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let in_flight = txn.open_table(SIGNUPS_IN_FLIGHT).map_err(unavailable)?;
    if in_flight
        .get(email.as_str())
        .map_err(unavailable)?
        .is_some()
    {
        return Ok(LoginRead::InFlight);
    }
    let table = txn.open_table(LOGINS).map_err(unavailable)?;
    let Some(bytes) = table.get(email.as_str()).map_err(unavailable)? else {
        return Ok(LoginRead::Absent);
    };
    let record: LoginRecord = records::decode(LOGIN_FORMAT, bytes.value())?;
    Ok(LoginRead::Found(Login {
        email: email.clone(),
        user_id: record.user_id,
        password_hash: record.password_hash,
    }))
}

fn has_key(
    store: &EmbeddedDatabase,
    table: TableDefinition<u64, &[u8]>,
    key: u64,
) -> Result<bool, StoreError> {
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let table = txn.open_table(table).map_err(unavailable)?;
    Ok(table.get(key).map_err(unavailable)?.is_some())
}

/// Whether a store has a login or a sign-up in flight for `email`.
fn email_taken_in(store: &EmbeddedDatabase, email: &str) -> Result<bool, StoreError> {
    let txn = store.handle().begin_read().map_err(unavailable)?;
    let logins = txn.open_table(LOGINS).map_err(unavailable)?;
    let in_flight = txn.open_table(SIGNUPS_IN_FLIGHT).map_err(unavailable)?;
    has_login_or_signup(&logins, &in_flight, email)
}

/// Whether `email` has a login or a sign-up in flight, in any transaction.
fn has_login_or_signup(
    logins: &impl ReadableTable<&'static str, &'static [u8]>,
    in_flight: &impl ReadableTable<&'static str, &'static [u8]>,
    email: &str,
) -> Result<bool, StoreError> {
    Ok(logins.get(email).map_err(unavailable)?.is_some()
        || in_flight.get(email).map_err(unavailable)?.is_some())
}

pub(super) fn rows_in<K: redb::Key + 'static, V: redb::Value + 'static>(
    store: &EmbeddedDatabase,
    table: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    use redb::ReadableTableMetadata;
    let txn = store.handle().begin_read().map_err(unavailable)?;
    txn.open_table(table)
        .map_err(unavailable)?
        .len()
        .map_err(unavailable)
}

/// Whether `email` has a login or a sign-up in flight, inside a write.
fn email_taken(
    txn: &WriteTransaction,
    logins: &redb::Table<&str, &[u8]>,
    email: &Email,
) -> Result<bool, StoreError> {
    let in_flight = txn.open_table(SIGNUPS_IN_FLIGHT).map_err(unavailable)?;
    has_login_or_signup(logins, &in_flight, email.as_str())
}

/// Sign-up where user and login share a store: one transaction.
async fn create_in_one_store(
    store: &EmbeddedDatabase,
    user: &StoredUser,
    email: Email,
    login_bytes: Vec<u8>,
) -> Result<(), AccountError> {
    let (id, user_bytes) = (user.id, encode(user));
    store
        .write(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut users = txn.open_table(USERS).map_err(unavailable)?;
                let mut logins = txn.open_table(LOGINS).map_err(unavailable)?;
                if email_taken(&txn, &logins, &email)? {
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

/// Sign-up's first step: the login and its in-flight record, if the email is free.
async fn reserve_email(
    store: &EmbeddedDatabase,
    email: &Email,
    id: UserId,
    login_bytes: Vec<u8>,
) -> Result<Result<(), AccountError>, StoreError> {
    let email = email.clone();
    store
        .write(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut logins = txn.open_table(LOGINS).map_err(unavailable)?;
                if email_taken(&txn, &logins, &email)? {
                    return Ok(Err(AccountError::EmailTaken));
                }
                logins
                    .insert(email.as_str(), login_bytes.as_slice())
                    .map_err(unavailable)?;
                txn.open_table(SIGNUPS_IN_FLIGHT)
                    .map_err(unavailable)?
                    .insert(email.as_str(), id.get().to_be_bytes().as_slice())
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)?;
            Ok(Ok(()))
        })
        .await
}

/// Sign-up's last step: drops the in-flight record, and with `undo` (the
/// user was not written) the login too, if it is still that user's.
async fn settle_signup(
    store: &EmbeddedDatabase,
    email: String,
    undo: Option<UserId>,
) -> Result<(), StoreError> {
    store
        .write(move |db| settle_signup_in(db, &email, undo))
        .await
}

fn settle_signup_in(db: &Database, email: &str, undo: Option<UserId>) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    txn.open_table(SIGNUPS_IN_FLIGHT)
        .map_err(unavailable)?
        .remove(email)
        .map_err(unavailable)?;
    if let Some(id) = undo {
        remove_login_of(&txn, email, id)?;
    }
    txn.commit().map_err(unavailable)
}

/// Delete's second step: removes the login of `email` if it is `id`'s.
fn release_email_in(db: &Database, email: &str, id: UserId) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    remove_login_of(&txn, email, id)?;
    txn.commit().map_err(unavailable)
}

/// One shard's part of an import, in one transaction.
fn import_into(store: &EmbeddedDatabase, users: Vec<StoredUser>) -> Result<usize, StoreError> {
    let txn = store.handle().begin_write().map_err(unavailable)?;
    let count = users.len();
    {
        let mut table = txn.open_table(USERS).map_err(unavailable)?;
        for user in users {
            table
                .insert(user.id.get(), encode(&user).as_slice())
                .map_err(unavailable)?;
        }
    }
    txn.commit().map_err(unavailable)?;
    Ok(count)
}

/// Removes the login of `email` if it belongs to `id` (and not to someone
/// who signed up with the email since).
fn remove_login_of(txn: &WriteTransaction, email: &str, id: UserId) -> Result<(), StoreError> {
    let mut logins = txn.open_table(LOGINS).map_err(unavailable)?;
    let owner = match logins.get(email).map_err(unavailable)? {
        Some(bytes) => Some(records::decode::<LoginRecord>(LOGIN_FORMAT, bytes.value())?.user_id),
        None => None,
    };
    if owner == Some(id) {
        logins.remove(email).map_err(unavailable)?;
    }
    Ok(())
}

/// A login as stored under its email.
#[derive(Serialize, Deserialize)]
pub(super) struct LoginRecord {
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

#[cfg(test)]
mod tests {
    //! Crashes between the steps of a two-step write, staged by running the
    //! first steps and then reopening the folder, as a restart does. The
    //! SIGKILL tests of the whole stack are in the API's durability tests.

    use std::path::Path;

    use millions_core::{Address, ShardCount};

    use super::*;
    use crate::local::DataFolder;

    const ID: u64 = 7_000_001;

    fn open(dir: &Path) -> EmbeddedUsers {
        let folder = DataFolder::open(dir, ShardCount::new(4).unwrap()).unwrap();
        EmbeddedUsers::new(folder.shards().clone()).unwrap()
    }

    /// A fresh store of 4 shards, and an account whose user and login are
    /// on different shards.
    fn split_account() -> (tempfile::TempDir, EmbeddedUsers, StoredUser, Login) {
        let dir = tempfile::tempdir().unwrap();
        let users = open(dir.path());
        let (user, login) = account(&email_elsewhere(&users));
        (dir, users, user, login)
    }

    /// An email whose login lives on another shard than user `ID`.
    fn email_elsewhere(users: &EmbeddedUsers) -> Email {
        let id = UserId::new(ID).unwrap();
        (0..)
            .map(|n| Email::parse(&format!("user{n}@example.com")).unwrap())
            .find(|email| {
                let layout = users.shards.layout();
                layout.of_text(email.as_str()).home != layout.of_user(id).home
            })
            .unwrap()
    }

    fn account(email: &Email) -> (StoredUser, Login) {
        let id = UserId::new(ID).unwrap();
        let user = StoredUser {
            id,
            version: Version::FIRST,
            profile: UserProfile {
                first_name: "John".into(),
                last_name: "Smith".into(),
                address: Address {
                    street_address: "21 2nd Street".into(),
                    city: "New York".into(),
                    state: "NY".into(),
                    postal_code: 10021,
                },
                phone_numbers: vec![],
            },
            email: Some(email.clone()),
        };
        let login = Login {
            email: email.clone(),
            user_id: id,
            password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        };
        (user, login)
    }

    /// Sign-up's first step alone.
    async fn reserve(users: &EmbeddedUsers, email: &Email, login: &Login) {
        let layout = users.shards.layout();
        let store = layout.store(layout.of_text(email.as_str()).home);
        reserve_email(store, email, login.user_id, login_bytes(login))
            .await
            .unwrap()
            .unwrap();
    }

    fn login_bytes(login: &Login) -> Vec<u8> {
        records::encode(
            LOGIN_FORMAT,
            &LoginRecord {
                user_id: login.user_id,
                password_hash: login.password_hash.clone(),
            },
        )
    }

    #[tokio::test]
    async fn a_signup_cut_before_its_user_frees_the_email_on_restart() {
        let (dir, users, user, login) = split_account();
        let email = login.email.clone();
        reserve(&users, &email, &login).await;
        assert_eq!(users.login(&email).await.unwrap(), None, "not usable yet");
        let taken = users.create(&account(&email).0, &login).await;
        assert!(
            matches!(taken, Err(AccountError::EmailTaken)),
            "but reserved"
        );
        drop(users);

        let users = open(dir.path());
        assert_eq!(users.login(&email).await.unwrap(), None);
        assert_eq!(users.read(user.id).unwrap(), None);
        users.create(&user, &login).await.unwrap();
        assert_eq!(users.login(&email).await.unwrap(), Some(login));
    }

    #[tokio::test]
    async fn a_signup_cut_after_its_user_keeps_the_account_on_restart() {
        let (dir, users, user, login) = split_account();
        let email = login.email.clone();
        reserve(&users, &email, &login).await;
        users.import([user.clone()]).unwrap();
        drop(users);

        let users = open(dir.path());
        assert_eq!(users.login(&email).await.unwrap(), Some(login.clone()));
        assert_eq!(users.read(user.id).unwrap(), Some(user.clone()));
        let again = users.create(&user, &login).await;
        assert!(matches!(again, Err(AccountError::EmailTaken)));
    }

    #[tokio::test]
    async fn a_delete_cut_before_its_login_is_removed_finishes_on_restart() {
        let (dir, users, user, login) = split_account();
        let email = login.email.clone();
        users.create(&user, &login).await.unwrap();
        // The first step alone: the user gone, the release recorded.
        let id = user.id;
        let address = email.as_str().to_owned();
        users
            .conditional_write(id, Some(user.version), move |table, txn| {
                table.remove(id.get()).map_err(unavailable)?;
                let mut releases = txn.open_table(RELEASES_IN_FLIGHT).map_err(unavailable)?;
                releases
                    .insert(id.get(), address.as_bytes())
                    .map(drop)
                    .map_err(unavailable)
            })
            .await
            .unwrap();
        assert!(users.login(&email).await.unwrap().is_some());
        drop(users);

        let users = open(dir.path());
        assert_eq!(users.login(&email).await.unwrap(), None);
        users.create(&user, &login).await.unwrap();
    }

    #[tokio::test]
    async fn accounts_split_across_shards_sign_up_and_delete_in_full() {
        let (_dir, users, user, login) = split_account();
        let email = login.email.clone();
        users.create(&user, &login).await.unwrap();
        assert_eq!(users.login(&email).await.unwrap(), Some(login.clone()));
        users.delete(&user).await.unwrap();
        assert_eq!(users.login(&email).await.unwrap(), None);
        assert_eq!(users.read(user.id).unwrap(), None);
        let leftovers = users.recover().unwrap();
        assert_eq!(leftovers, Recovered::default(), "no intent left behind");
    }
}
