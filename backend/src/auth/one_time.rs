//! Random one-time secrets (connect codes, DMS refresh keys, session refresh tokens, mailed
//! links) and the hash they are stored as.
//!
//! They carry 256 bits of entropy, so a plain SHA-256 is enough to store them (no password
//! hashing), and they are found by the hash's primary key: no comparison of secrets at all.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random secret with a readable prefix (`scc_` connect codes, `srk_` DMS refresh keys,
/// `ssr_` session refresh tokens, `sml_` mailed links), so a leaked one is recognisable;
/// URL-safe and 47 characters long.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: lower-case hex SHA-256.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hash_to_64_hex_characters() {
        let a = generate("scc_");
        assert!(a.starts_with("scc_"));
        assert_eq!(a.len(), 47);
        assert_ne!(a, generate("scc_"));
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(hash(&a), hash(&format!(" {a}\n")));
        assert_ne!(hash(&a), hash(&generate("scc_")));
    }
}
