//! Login rate limits: fixed windows counted in the shared store.
//!
//! The counters must live in the store every instance uses: a limiter in one
//! instance's memory would let an attacker spread guesses across instances
//! and regions. Fixed windows cost one atomic increment per attempt, which is
//! what both DynamoDB (`ADD`) and the embedded store do cheaply.

use sha2::{Digest, Sha256};

use super::email::Email;

/// At most `max` attempts per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u64,
}

/// One counting window of one limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// What is counted, e.g. `login-account:<hash>`.
    pub key: String,
    /// Unix seconds; a multiple of the window length.
    pub start: u64,
    pub end: u64,
}

impl Limit {
    /// The window that `now` falls in, for `key`.
    pub fn window(&self, key: String, now: u64) -> Window {
        let length = self.window_secs.max(1);
        let start = now - now % length;
        Window {
            key,
            start,
            end: start + length,
        }
    }
}

/// The limits on `POST /auth/login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Per account: slows a guesser down on one account, from anywhere.
    pub per_account: Limit,
    /// Per client address: slows one client trying many accounts.
    pub per_address: Limit,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account: Limit {
                max: 10,
                window_secs: 15 * 60,
            },
            per_address: Limit {
                max: 100,
                window_secs: 15 * 60,
            },
        }
    }
}

impl LoginLimits {
    /// The counter key of an account. Hashed, so the counters table holds no
    /// email addresses.
    pub fn account_key(email: &Email) -> String {
        let digest = Sha256::digest(email.as_str().as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("login-account:{hex}")
    }

    pub fn address_key(address: &str) -> String {
        format!("login-address:{address}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_shared_by_every_instance() {
        let limit = Limit {
            max: 5,
            window_secs: 60,
        };
        let w = limit.window("k".into(), 1_000_050);
        assert_eq!((w.start, w.end), (1_000_020, 1_000_080));
        assert_eq!(limit.window("k".into(), 1_000_020), w);
        assert_ne!(limit.window("k".into(), 1_000_080), w);
    }

    #[test]
    fn account_keys_do_not_contain_the_address() {
        let email = Email::parse("ann@example.com").unwrap();
        let key = LoginLimits::account_key(&email);
        assert!(!key.contains("ann"));
        assert_eq!(
            key,
            LoginLimits::account_key(&Email::parse("ANN@example.com").unwrap())
        );
    }
}
