//! Session tokens: what the client holds, and the hash the server keeps.
//!
//! A token is 256 random bits, sent as 43 base64url characters. The store
//! keeps only its SHA-256, so a leaked table (a backup, a log of items, a
//! replica in another region) holds nothing that logs anyone in. A fast hash
//! is enough here, unlike for passwords: the input has 256 bits of entropy, so
//! there is nothing to guess.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Characters in a token's text form.
pub const TOKEN_CHARS: usize = 43;

/// A session token as the client holds it. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken([u8; TOKEN_BYTES]);

impl SessionToken {
    pub fn from_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(bytes)
    }

    /// Reads a token from a cookie or an `Authorization` header; `None` when
    /// the text cannot be a token (so it cannot name a session either).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != TOKEN_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// The text sent to the client.
    pub fn reveal(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The key the session is stored under.
    pub fn hash(&self) -> TokenHash {
        let digest = Sha256::digest(self.0);
        TokenHash(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// SHA-256 of a token, as 64 lower-case hex digits: the sessions table's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a hash read back from a store.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let token = SessionToken::from_bytes([7; TOKEN_BYTES]);
        let text = token.reveal();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert_eq!(SessionToken::parse(&text), Some(token));
    }

    #[test]
    fn rejects_text_that_is_not_a_token() {
        let valid = SessionToken::from_bytes([7; TOKEN_BYTES]).reveal();
        assert_eq!(SessionToken::parse(""), None);
        assert_eq!(SessionToken::parse(&valid[1..]), None);
        assert_eq!(SessionToken::parse(&format!("{valid}A")), None);
        assert_eq!(SessionToken::parse(&valid.replace(&valid[..1], "*")), None);
    }

    #[test]
    fn hash_is_sha256_hex_and_hides_the_token() {
        let token = SessionToken::from_bytes([0; TOKEN_BYTES]);
        // SHA-256 of 32 zero bytes.
        assert_eq!(
            token.hash().as_str(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        assert!(!token.hash().as_str().contains(&token.reveal()));
        assert!(!format!("{token:?}").contains(&token.reveal()));
    }
}
