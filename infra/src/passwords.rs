//! Password hashing with Argon2id at the OWASP-recommended parameters
//! (19 MiB of memory, 2 passes, 1 lane), run on the blocking thread pool
//! because one hash takes tens of milliseconds of CPU.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use millions_core::auth::{Password, PasswordError, PasswordHash, Passwords};

/// OWASP Password Storage Cheat Sheet, Argon2id, first configuration.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

#[derive(Clone, Default)]
pub struct Argon2Passwords {
    decoy: Arc<OnceLock<String>>,
}

impl Argon2Passwords {
    pub fn new() -> Self {
        Self::default()
    }

    fn hasher() -> Argon2<'static> {
        let params =
            Params::new(MEMORY_KIB, PASSES, LANES, None).expect("constant parameters are valid");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A hash of a random secret nobody knows, verified against when the
    /// account does not exist, so that a login costs the same either way.
    fn decoy(&self) -> Result<String, PasswordError> {
        if let Some(decoy) = self.decoy.get() {
            return Ok(decoy.clone());
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| PasswordError(e.to_string()))?;
        let hash = Self::hasher()
            .hash_password(&secret)
            .map_err(|e| PasswordError(e.to_string()))?
            .to_string();
        Ok(self.decoy.get_or_init(|| hash).clone())
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
) -> Result<T, PasswordError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PasswordError(e.to_string()))?
}

#[async_trait]
impl Passwords for Argon2Passwords {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordError> {
        let password = password.clone();
        blocking(move || {
            Self::hasher()
                .hash_password(password.expose().as_bytes())
                .map(|hash| PasswordHash(hash.to_string()))
                .map_err(|e| PasswordError(e.to_string()))
        })
        .await
    }

    async fn verify(
        &self,
        password: &Password,
        hash: Option<&PasswordHash>,
    ) -> Result<bool, PasswordError> {
        let (known, phc) = match hash {
            Some(hash) => (true, hash.0.clone()),
            None => (false, self.decoy()?),
        };
        let password = password.clone();
        let matches = blocking(move || {
            let parsed = argon2::password_hash::phc::PasswordHash::new(&phc)
                .map_err(|e| PasswordError(format!("a stored hash is unreadable: {e}")))?;
            // The parameters come from the stored hash, so hashes made with
            // older settings still verify.
            Ok(Self::hasher()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok())
        })
        .await?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_at_owasp_parameters_and_verifies() {
        let passwords = Argon2Passwords::new();
        let password = Password::new("correct horse battery staple".into()).unwrap();
        let hash = passwords.hash(&password).await.unwrap();
        assert!(
            hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.0
        );
        assert!(!hash.0.contains("horse"));
        assert!(passwords.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::attempt("correct horse battery stable".into()).unwrap();
        assert!(!passwords.verify(&wrong, Some(&hash)).await.unwrap());
        // Same password, new salt, different hash.
        assert_ne!(passwords.hash(&password).await.unwrap(), hash);
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let passwords = Argon2Passwords::new();
        let password = Password::attempt("anything at all".into()).unwrap();
        assert!(!passwords.verify(&password, None).await.unwrap());
    }
}
