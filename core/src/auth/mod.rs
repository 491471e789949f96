//! Accounts and sessions: who is calling, proven by a session token.
//!
//! The web tier keeps nothing between requests. A session is a row in the
//! shared store, found by the hash of the token the client sends (cookie or
//! `Authorization: Bearer`), so any instance in any region can check it.

mod email;
mod limits;
mod parse;
mod password;
mod ports;
mod service;
mod session;
mod token;

pub use email::{Email, InvalidEmail, MAX_EMAIL_CHARS};
pub use limits::{Limit, LoginLimits, Window};
pub use parse::{parse_credentials, parse_signup, Credentials, Signup};
pub use password::{
    InvalidPassword, Password, PasswordHash, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
};
pub use ports::{
    AccountError, Accounts, Login, PasswordError, Passwords, Randomness, RateLimits, Sessions,
};
pub use service::{AuthError, AuthPorts, AuthService, AuthSettings, NewSession};
pub use session::{Session, SessionLifetimes};
pub use token::{SessionToken, TokenHash, TOKEN_BYTES, TOKEN_CHARS};
