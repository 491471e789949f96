//! Passwords as they arrive (checked for length, never logged) and as they
//! are kept (a PHC string from a slow, salted hash).

use std::fmt;

use serde::{Deserialize, Serialize};

/// NIST SP 800-63B (rev. 4) asks for at least 15 characters when the password
/// is the only factor; long passphrases beat composition rules.
pub const MIN_PASSWORD_CHARS: usize = 15;
/// Long enough for any passphrase, short enough that hashing it is cheap.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A password in clear text, as the client sent it. Its `Debug` output is
/// redacted so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPassword {
    #[error(
        "a password has at least {MIN_PASSWORD_CHARS} characters; a few words make a good one"
    )]
    TooShort,
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

impl Password {
    /// A password chosen at sign-up: length rules apply.
    pub fn new(text: String) -> Result<Self, InvalidPassword> {
        match text.chars().count() {
            n if n < MIN_PASSWORD_CHARS => Err(InvalidPassword::TooShort),
            n if n > MAX_PASSWORD_CHARS => Err(InvalidPassword::TooLong),
            _ => Ok(Self(text)),
        }
    }

    /// A password typed at login: only the upper bound applies (an old, shorter
    /// password must still be checkable), so hashing cost stays bounded.
    pub fn attempt(text: String) -> Result<Self, InvalidPassword> {
        if text.chars().count() > MAX_PASSWORD_CHARS {
            Err(InvalidPassword::TooLong)
        } else {
            Ok(Self(text))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A salted password hash in PHC string format (`$argon2id$v=19$m=...`).
/// The parameters travel inside it, so stronger settings later still verify
/// old hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert_eq!(
            Password::new("short".into()),
            Err(InvalidPassword::TooShort)
        );
        assert!(Password::new("correct horse battery".into()).is_ok());
        assert_eq!(
            Password::new("x".repeat(MAX_PASSWORD_CHARS + 1)),
            Err(InvalidPassword::TooLong)
        );
        // Login attempts are checked whatever their length, up to the bound.
        assert!(Password::attempt("short".into()).is_ok());
        assert!(Password::attempt("x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = Password::new("correct horse battery".into()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
