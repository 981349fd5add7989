//! Password hashing with argon2id. Parameters come from the configuration (tests lower them).
//! Hashing takes tens of milliseconds by design: the `_off_executor` forms run it on the
//! blocking pool, away from both the async executor and any database connection, at most
//! `password_hashes_at_once` at a time: each takes `argon2_memory_kib` of memory, so the bound
//! on hashes is the bound on that memory whatever the number of parallel requests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use stratus_shared::password::NewPassword;

use crate::error::AppError;

/// Hashes and verifies passwords; cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    /// A real hash of a random password, verified against when the account does not exist so
    /// that "unknown email" and "wrong password" take the same time.
    dummy_hash: String,
    /// Turns to compute a hash; requests beyond wait in line.
    turns: Arc<Semaphore>,
}

/// How long a request waits for its turn to hash before it is told to retry (429).
const TURN_WAIT: Duration = Duration::from_secs(10);

impl Passwords {
    /// argon2id with the given memory (KiB), iterations and lanes, one hash per CPU core at
    /// a time.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|error| anyhow::anyhow!("invalid argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = argon2
            .hash_password(uuid::Uuid::new_v4().as_bytes())
            .map_err(|error| anyhow::anyhow!("argon2 failed: {error}"))?
            .to_string();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            argon2,
            dummy_hash,
            turns: Arc::new(Semaphore::new(cores)),
        })
    }

    /// At most `hashes` hashes (or verifications) at once; 0 keeps one per CPU core.
    pub fn at_once(mut self, hashes: usize) -> Self {
        if hashes > 0 {
            self.turns = Arc::new(Semaphore::new(hashes));
        }
        self
    }

    /// The PHC string (`$argon2id$v=19$…`) to store for `password`.
    pub fn hash(&self, password: &NewPassword) -> anyhow::Result<String> {
        Ok(self
            .argon2
            .hash_password(password.expose().as_bytes())
            .map_err(|error| anyhow::anyhow!("argon2 failed: {error}"))?
            .to_string())
    }

    /// Whether `candidate` matches `stored`. With no stored hash (unknown account, or one that
    /// only signs in through a provider) it still does the work, and answers `false`.
    pub fn verify(&self, candidate: &str, stored: Option<&str>) -> bool {
        let (hash, exists) = match stored {
            Some(hash) => (hash, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            tracing::error!("a stored password hash cannot be parsed");
            return false;
        };
        // Verification uses the parameters in the stored hash, so raising the configured cost
        // later does not lock anyone out.
        let matches = self
            .argon2
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok();
        matches && exists
    }

    /// [`Passwords::hash`] on the blocking pool, when its turn comes.
    pub async fn hash_off_executor(&self, password: NewPassword) -> Result<String, AppError> {
        let _turn = self.turn().await?;
        let passwords = self.clone();
        Ok(off_executor(move || passwords.hash(&password)).await??)
    }

    /// [`Passwords::verify`] on the blocking pool, when its turn comes.
    pub async fn verify_off_executor(
        &self,
        candidate: String,
        stored: Option<String>,
    ) -> Result<bool, AppError> {
        let _turn = self.turn().await?;
        let passwords = self.clone();
        off_executor(move || passwords.verify(&candidate, stored.as_deref())).await
    }

    /// Waits for a turn to hash; 429 (retry in a second) after [`TURN_WAIT`].
    async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        let busy = AppError::TooManyRequests {
            retry_after_seconds: 1,
        };
        match tokio::time::timeout(TURN_WAIT, self.turns.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => {
                tracing::warn!("password hashing is saturated: a request was told to retry");
                Err(busy)
            }
        }
    }
}

async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    actix_web::web::block(work)
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("blocking pool: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwords() -> Passwords {
        Passwords::new(1024, 1, 1).unwrap()
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let passwords = passwords();
        let password = NewPassword::parse("correct horse battery", "a@b.com").unwrap();
        let hash = passwords.hash(&password).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"));
        assert!(passwords.verify("correct horse battery", Some(&hash)));
        assert!(!passwords.verify("correct horse batterY", Some(&hash)));
    }

    #[test]
    fn hashes_are_salted() {
        let passwords = passwords();
        let password = NewPassword::parse("correct horse battery", "a@b.com").unwrap();
        assert_ne!(
            passwords.hash(&password).unwrap(),
            passwords.hash(&password).unwrap()
        );
    }

    #[test]
    fn no_stored_hash_never_verifies() {
        assert!(!passwords().verify("anything at all", None));
        assert!(!passwords().verify("anything at all", Some("not a phc string")));
    }
}
