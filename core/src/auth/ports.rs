//! The ports authentication needs: accounts (user + login, created together),
//! sessions, rate-limit counters, password hashing and randomness.

use async_trait::async_trait;

use super::email::Email;
use super::limits::Window;
use super::password::{Password, PasswordHash};
use super::session::Session;
use super::token::{SessionToken, TokenHash};
use crate::ids::UserId;
use crate::ports::StoreError;
use crate::users::StoredUser;

/// What lets a person log in as a user: kept apart from the user record,
/// keyed by email, so that the key itself enforces one account per address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub email: Email,
    pub user_id: UserId,
    pub password_hash: PasswordHash,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("the user id is taken")]
    IdTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Users with logins. Creation writes the user and its login in one atomic
/// step (a DynamoDB transaction, one redb commit): a check-then-write would
/// let two sign-ups with one email both succeed.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Stores the user and its login, or neither.
    async fn create(&self, user: &StoredUser, login: &Login) -> Result<(), AccountError>;

    /// The login for an email, read strongly (a password just changed must
    /// not be accepted in its old form).
    async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError>;
}

/// Sessions, keyed by the hash of their token.
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Stores a new session; [`StoreError::AlreadyExists`] if the hash is taken.
    async fn insert(&self, session: &Session) -> Result<(), StoreError>;

    /// Reads a session, expired or not (the caller judges expiry).
    async fn get(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError>;

    /// Moves a session's end to `expires_at`; [`StoreError::NotFound`] if it
    /// is gone, so a renewal racing a logout cannot bring the session back.
    async fn extend(&self, hash: &TokenHash, expires_at: u64) -> Result<(), StoreError>;

    /// Removes a session. Removing one that is not there is not an error.
    async fn delete(&self, hash: &TokenHash) -> Result<(), StoreError>;
}

/// Counters shared by every instance.
#[async_trait]
pub trait RateLimits: Send + Sync {
    /// Adds one to the window's counter and returns the new count. The
    /// counter is forgotten after the window ends.
    async fn hit(&self, window: &Window) -> Result<u32, StoreError>;
}

/// A password hashing failure: a bug or resource exhaustion, never bad input.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(pub String);

/// Slow, salted password hashing (Argon2id in production).
#[async_trait]
pub trait Passwords: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordError>;

    /// Whether `password` matches `hash`. With no hash (unknown account) it
    /// does the same work against a decoy and answers `false`, so response
    /// times do not tell which emails have accounts.
    async fn verify(
        &self,
        password: &Password,
        hash: Option<&PasswordHash>,
    ) -> Result<bool, PasswordError>;
}

/// A source of unguessable session tokens (the OS random generator).
pub trait Randomness: Send + Sync {
    fn session_token(&self) -> SessionToken;
    /// 128 random bits, for ids that must not be guessable.
    fn id128(&self) -> u128;
}
