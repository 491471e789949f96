//! The data tier's metrics, recorded once for both tiers: the tables on the
//! request path (users, logins, sessions, likes) wrapped so that every call
//! records its latency and its outcome, whichever adapter (DynamoDB or the
//! embedded store) answers it.
//!
//! One histogram, `store_operation_duration_seconds`, labelled by table,
//! operation and outcome: its `_count` is the calls, and the calls with
//! `outcome="condition_failed"` are the conditional writes that lost (a
//! version that moved, a key already taken: DynamoDB's
//! `ConditionalCheckFailedException`), the ones with `unavailable` the
//! store's failures. A decorator over the ports rather than a hook in each
//! adapter, so the two tiers cannot count differently; the labels are
//! static, so a call costs a registry lookup and no allocation
//! (`docs/benchmarks.md` has what it costs a read).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use millions_core::auth::{AccountError, Accounts, Login, Session, Sessions, TokenHash};
use millions_core::{
    Consistency, Email, Likes, Ports, StoreError, StoredUser, UserId, Users, Version,
};

/// `ports` with their tables measured.
pub fn measured(ports: Ports) -> Ports {
    Ports {
        users: Arc::new(Measured(ports.users)),
        accounts: Arc::new(Measured(ports.accounts)),
        sessions: Arc::new(Measured(ports.sessions)),
        likes: Arc::new(Measured(ports.likes)),
        ..ports
    }
}

/// A port whose calls are recorded.
struct Measured<P: ?Sized>(Arc<P>);

/// How a call ended, as its label.
trait Outcome {
    fn outcome(&self) -> &'static str;
}

fn failure(error: &StoreError) -> &'static str {
    match error {
        // Only conditional writes fail these ways: the key was taken, the
        // version moved, or the record went away.
        StoreError::AlreadyExists | StoreError::VersionMismatch { .. } | StoreError::NotFound => {
            "condition_failed"
        }
        StoreError::Unavailable(_) => "unavailable",
    }
}

impl<T> Outcome for Result<T, StoreError> {
    fn outcome(&self) -> &'static str {
        self.as_ref().map_or_else(failure, |_| "ok")
    }
}

impl<T> Outcome for Result<T, AccountError> {
    fn outcome(&self) -> &'static str {
        match self {
            Ok(_) => "ok",
            Err(AccountError::EmailTaken) | Err(AccountError::IdTaken) => "condition_failed",
            Err(AccountError::Store(error)) => failure(error),
        }
    }
}

/// Runs `call` and records it under `table` and `operation`.
async fn record<R: Outcome>(
    table: &'static str,
    operation: &'static str,
    call: impl Future<Output = R>,
) -> R {
    let started = Instant::now();
    let result = call.await;
    metrics::histogram!(
        "store_operation_duration_seconds",
        "table" => table,
        "operation" => operation,
        "outcome" => result.outcome()
    )
    .record(started.elapsed().as_secs_f64());
    result
}

#[async_trait]
impl Users for Measured<dyn Users> {
    async fn insert(&self, user: &StoredUser) -> Result<(), StoreError> {
        record("users", "insert", self.0.insert(user)).await
    }

    async fn get(
        &self,
        id: UserId,
        consistency: Consistency,
    ) -> Result<Option<StoredUser>, StoreError> {
        record("users", "get", self.0.get(id, consistency)).await
    }

    async fn replace(&self, user: &StoredUser, expected: Version) -> Result<(), StoreError> {
        record("users", "replace", self.0.replace(user, expected)).await
    }

    async fn delete(&self, current: &StoredUser) -> Result<(), StoreError> {
        record("users", "delete", self.0.delete(current)).await
    }
}

#[async_trait]
impl Accounts for Measured<dyn Accounts> {
    async fn create(&self, user: &StoredUser, login: &Login) -> Result<(), AccountError> {
        record("logins", "create", self.0.create(user, login)).await
    }

    async fn login(&self, email: &Email) -> Result<Option<Login>, StoreError> {
        record("logins", "get", self.0.login(email)).await
    }
}

#[async_trait]
impl Sessions for Measured<dyn Sessions> {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        record("sessions", "insert", self.0.insert(session)).await
    }

    async fn get(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        record("sessions", "get", self.0.get(hash)).await
    }

    async fn extend(&self, hash: &TokenHash, expires_at: u64) -> Result<(), StoreError> {
        record("sessions", "extend", self.0.extend(hash, expires_at)).await
    }

    async fn delete(&self, hash: &TokenHash) -> Result<(), StoreError> {
        record("sessions", "delete", self.0.delete(hash)).await
    }
}

#[async_trait]
impl Likes for Measured<dyn Likes> {
    async fn like(&self, liked: UserId, liker: UserId, at_ms: u64) -> Result<bool, StoreError> {
        record("likes", "like", self.0.like(liked, liker, at_ms)).await
    }

    async fn unlike(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        record("likes", "unlike", self.0.unlike(liked, liker)).await
    }

    async fn likes(&self, liked: UserId, liker: UserId) -> Result<bool, StoreError> {
        record("likes", "get", self.0.likes(liked, liker)).await
    }

    async fn count(&self, liked: UserId) -> Result<u64, StoreError> {
        record("likes", "count", self.0.count(liked)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_name_conditional_failures_apart_from_unavailability() {
        let cases: [(Result<(), StoreError>, &str); 5] = [
            (Ok(()), "ok"),
            (Err(StoreError::AlreadyExists), "condition_failed"),
            (
                Err(StoreError::VersionMismatch {
                    current: Version::FIRST,
                }),
                "condition_failed",
            ),
            (Err(StoreError::NotFound), "condition_failed"),
            (
                Err(StoreError::unavailable(std::io::Error::other("down"))),
                "unavailable",
            ),
        ];
        for (result, label) in cases {
            assert_eq!(result.outcome(), label, "{result:?}");
        }
        let taken: Result<(), AccountError> = Err(AccountError::EmailTaken);
        assert_eq!(taken.outcome(), "condition_failed");
    }
}
