//! Sign-up, login, logout and session checks, written once against the ports.

use std::sync::Arc;

use serde_json::Value;

use super::email::Email;
use super::limits::{Limit, LoginLimits};
use super::parse::{parse_credentials, parse_signup};
use super::ports::{
    AccountError, Accounts, Login, PasswordError, Passwords, Randomness, RateLimits, Sessions,
};
use super::session::{Session, SessionLifetimes};
use super::token::SessionToken;
use crate::ids::{IdGenerator, UserId};
use crate::ports::{Clock, StoreError};
use crate::problem::Violation;
use crate::users::{StoredUser, Version};

/// How many fresh ids sign-up tries when one is taken.
const MAX_ID_ATTEMPTS: usize = 8;
/// How many fresh tokens login tries on a hash collision (never expected:
/// 256 random bits; the loop only guards a broken random source).
const MAX_TOKEN_ATTEMPTS: usize = 3;

/// Tunable rules of authentication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthSettings {
    pub sessions: SessionLifetimes,
    pub login_limits: LoginLimits,
}

/// Why an authentication operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the request has invalid values")]
    Invalid(Vec<Violation>),
    #[error("an account with the email {0} exists")]
    EmailTaken(Email),
    /// Said the same way for an unknown email and a wrong password.
    #[error("the email or the password is wrong")]
    WrongCredentials,
    #[error("too many login attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hashing(#[from] PasswordError),
}

/// A session just opened, with the token the client will hold.
#[derive(Debug)]
pub struct NewSession {
    pub token: SessionToken,
    pub session: Session,
}

/// Everything authentication needs from the outside.
pub struct AuthPorts {
    pub accounts: Arc<dyn Accounts>,
    pub sessions: Arc<dyn Sessions>,
    pub limits: Arc<dyn RateLimits>,
    pub passwords: Arc<dyn Passwords>,
    pub random: Arc<dyn Randomness>,
}

/// Accounts and sessions over any store.
pub struct AuthService {
    ports: AuthPorts,
    ids: Arc<IdGenerator>,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
}

impl AuthService {
    pub fn new(
        ports: AuthPorts,
        ids: Arc<IdGenerator>,
        clock: Arc<dyn Clock>,
        settings: AuthSettings,
    ) -> Self {
        Self {
            ports,
            ids,
            clock,
            settings,
        }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    fn now_secs(&self) -> u64 {
        self.clock.now_ms() / 1000
    }

    /// Creates a user with a login from a `POST /auth/signup` body and opens
    /// a session for it.
    pub async fn signup(&self, body: Value) -> Result<(StoredUser, NewSession), AuthError> {
        let signup = parse_signup(body).map_err(AuthError::Invalid)?;
        let password_hash = self.ports.passwords.hash(&signup.password).await?;
        for _ in 0..MAX_ID_ATTEMPTS {
            let Ok(id) = self.ids.next_id(self.clock.now_ms()) else {
                continue;
            };
            let user = StoredUser {
                id,
                version: Version::FIRST,
                profile: signup.profile.clone(),
                email: Some(signup.email.clone()),
            };
            let login = Login {
                email: signup.email.clone(),
                user_id: id,
                password_hash: password_hash.clone(),
            };
            match self.ports.accounts.create(&user, &login).await {
                Ok(()) => {
                    let session = self.open_session(id).await?;
                    metrics::counter!("signups_total").increment(1);
                    return Ok((user, session));
                }
                Err(AccountError::EmailTaken) => return Err(AuthError::EmailTaken(signup.email)),
                Err(AccountError::IdTaken) => {}
                Err(AccountError::Store(error)) => return Err(error.into()),
            }
        }
        Err(
            StoreError::Unavailable(format!("no free id after {MAX_ID_ATTEMPTS} attempts").into())
                .into(),
        )
    }

    /// Checks a `POST /auth/login` body from the client at `client_address`
    /// and opens a session.
    pub async fn login(&self, body: Value, client_address: &str) -> Result<NewSession, AuthError> {
        let credentials = parse_credentials(body).map_err(AuthError::Invalid)?;
        let limits = self.settings.login_limits;
        // Counted before the password is checked: the limit exists to bound
        // guesses, and a refused guess costs no hashing.
        self.count_attempt(limits.per_address, LoginLimits::address_key(client_address))
            .await?;
        self.count_attempt(
            limits.per_account,
            LoginLimits::account_key(&credentials.email),
        )
        .await?;
        let login = self.ports.accounts.login(&credentials.email).await?;
        let hash = login.as_ref().map(|login| &login.password_hash);
        let matches = self
            .ports
            .passwords
            .verify(&credentials.password, hash)
            .await?;
        match login {
            Some(login) if matches => {
                metrics::counter!("logins_total", "outcome" => "success").increment(1);
                self.open_session(login.user_id).await
            }
            _ => {
                metrics::counter!("logins_total", "outcome" => "failure").increment(1);
                Err(AuthError::WrongCredentials)
            }
        }
    }

    /// The live session a token names, renewed if it is due. `None` for an
    /// unknown, revoked or expired token: all mean "not logged in".
    pub async fn authenticate(&self, token: &SessionToken) -> Result<Option<Session>, AuthError> {
        let hash = token.hash();
        let Some(mut session) = self.ports.sessions.get(&hash).await? else {
            return Ok(None);
        };
        let now = self.now_secs();
        let lifetimes = self.settings.sessions;
        if !lifetimes.is_live(&session, now) {
            return Ok(None);
        }
        if let Some(expires_at) = lifetimes.renewal(&session, now) {
            match self.ports.sessions.extend(&hash, expires_at).await {
                Ok(()) => session.expires_at = expires_at,
                // Logged out between the read and the renewal.
                Err(StoreError::NotFound) => return Ok(None),
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Some(session))
    }

    /// Ends the session a token names. Ending an unknown session succeeds:
    /// the outcome the client wants holds either way.
    pub async fn logout(&self, token: &SessionToken) -> Result<(), AuthError> {
        Ok(self.ports.sessions.delete(&token.hash()).await?)
    }

    async fn open_session(&self, user_id: UserId) -> Result<NewSession, AuthError> {
        let now = self.now_secs();
        for _ in 0..MAX_TOKEN_ATTEMPTS {
            let token = self.ports.random.session_token();
            let session = Session {
                token_hash: token.hash(),
                user_id,
                created_at: now,
                expires_at: self.settings.sessions.first_expiry(now),
            };
            match self.ports.sessions.insert(&session).await {
                Ok(()) => return Ok(NewSession { token, session }),
                Err(StoreError::AlreadyExists) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Unavailable("the random source repeats itself".into()).into())
    }

    async fn count_attempt(&self, limit: Limit, key: String) -> Result<(), AuthError> {
        let now = self.now_secs();
        let window = limit.window(key, now);
        let attempts = self.ports.limits.hit(&window).await?;
        if attempts > limit.max {
            return Err(AuthError::TooManyAttempts {
                retry_after_secs: window.end.saturating_sub(now).max(1),
            });
        }
        Ok(())
    }
}
