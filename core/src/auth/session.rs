//! Sessions and their lifetime rules: an idle timeout that slides with use,
//! capped by an absolute lifetime.

use serde::{Deserialize, Serialize};

use super::token::TokenHash;
use crate::ids::UserId;

/// A session as the store keeps it. Times are Unix seconds, the unit of
/// DynamoDB's TTL attribute, so `expires_at` doubles as the TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: TokenHash,
    pub user_id: UserId,
    pub created_at: u64,
    pub expires_at: u64,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// A session unused this long ends.
    pub idle_secs: u64,
    /// No session lives longer than this, however often it is used.
    pub absolute_secs: u64,
}

impl Default for SessionLifetimes {
    /// A week idle, thirty days at most: a returning user rarely has to log in
    /// again, and a stolen token stops working within a month whatever happens.
    fn default() -> Self {
        Self {
            idle_secs: 7 * 24 * 3600,
            absolute_secs: 30 * 24 * 3600,
        }
    }
}

impl SessionLifetimes {
    /// A new session's end.
    pub fn first_expiry(&self, now: u64) -> u64 {
        now + self.idle_secs.min(self.absolute_secs)
    }

    /// Whether a session is still good at `now`. The store's TTL sweep may
    /// lag by days, so this check, not the sweep, is what ends a session.
    pub fn is_live(&self, session: &Session, now: u64) -> bool {
        now < session.expires_at && now < session.created_at + self.absolute_secs
    }

    /// The later end a used session gets, or `None` when it is not worth a
    /// write yet. Renewing only once half the idle time has passed keeps
    /// authenticated reads from writing on every request.
    pub fn renewal(&self, session: &Session, now: u64) -> Option<u64> {
        let remaining = session.expires_at.saturating_sub(now);
        let renewed = (now + self.idle_secs).min(session.created_at + self.absolute_secs);
        (remaining < self.idle_secs / 2 && renewed > session.expires_at).then_some(renewed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::token::SessionToken;

    const LIFETIMES: SessionLifetimes = SessionLifetimes {
        idle_secs: 100,
        absolute_secs: 1000,
    };

    fn session(created_at: u64, expires_at: u64) -> Session {
        Session {
            token_hash: SessionToken::from_bytes([1; 32]).hash(),
            user_id: crate::UserId::new(1).unwrap(),
            created_at,
            expires_at,
        }
    }

    #[test]
    fn live_until_idle_expiry_and_absolute_end() {
        let s = session(0, LIFETIMES.first_expiry(0));
        assert!(LIFETIMES.is_live(&s, 99));
        assert!(!LIFETIMES.is_live(&s, 100));
        // Even a session whose stored expiry was pushed out ends at the cap.
        let stretched = session(0, 5000);
        assert!(LIFETIMES.is_live(&stretched, 999));
        assert!(!LIFETIMES.is_live(&stretched, 1000));
    }

    #[test]
    fn renews_only_after_half_the_idle_time() {
        let s = session(0, 100);
        assert_eq!(LIFETIMES.renewal(&s, 10), None);
        assert_eq!(LIFETIMES.renewal(&s, 50), None);
        assert_eq!(LIFETIMES.renewal(&s, 51), Some(151));
    }

    #[test]
    fn renewal_never_passes_the_absolute_end() {
        let s = session(0, 1000);
        assert_eq!(LIFETIMES.renewal(&s, 960), None);
        let s = session(0, 950);
        assert_eq!(LIFETIMES.renewal(&s, 920), Some(1000));
    }
}
