//! Session tokens and unguessable ids from the operating system's random generator.

use millions_core::auth::{Randomness, SessionToken, TOKEN_BYTES};

#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn session_token(&self) -> SessionToken {
        let mut bytes = [0u8; TOKEN_BYTES];
        // The OS generator failing leaves no safe way to mint a token.
        getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
        SessionToken::from_bytes(bytes)
    }

    fn id128(&self) -> u128 {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
        u128::from_le_bytes(bytes)
    }
}
