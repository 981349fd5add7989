//! Signing keys: taken from the configuration when given, else generated once and kept in the
//! data directory, so a restart does not sign everyone out or disconnect every DMS.
//!
//! Installs with several backends must share the keys: set them in the configuration
//! (`STRATUS_SESSION_SECRET`, `STRATUS_GATEWAY_SECRET`) rather than relying on one data dir.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The file, inside the data directory, that holds generated keys.
pub const SECRETS_FILE: &str = "secrets.json";

/// Bytes of entropy in a generated key (512 bits, the HMAC-SHA256 block size).
const KEY_BYTES: usize = 64;

/// A key that never shows up in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// The raw key bytes, for signing.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    fn generate() -> Self {
        let mut bytes = vec![0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    fn from_configured(value: &str, name: &str) -> anyhow::Result<Self> {
        let value = value.trim();
        anyhow::ensure!(
            value.len() >= 32,
            "{name} must be at least 32 characters long (use e.g. `openssl rand -base64 48`)"
        );
        Ok(Self(value.as_bytes().to_vec()))
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// The keys the server signs with.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Signs people's session (access) tokens.
    pub session_key: SecretKey,
    /// Signs DMS tokens; separate so one leaked key cannot forge the other kind.
    pub gateway_key: SecretKey,
}

#[derive(Serialize, Deserialize)]
struct StoredSecrets {
    session_key: String,
    gateway_key: String,
}

impl Secrets {
    /// Uses the configured keys where given; fills the rest from `<data_dir>/secrets.json`,
    /// creating that file (readable by the owner only) on first start.
    pub fn load_or_generate(
        data_dir: &Path,
        configured_session_key: Option<&str>,
        configured_gateway_key: Option<&str>,
    ) -> anyhow::Result<Self> {
        let stored = load_or_create_file(&data_dir.join(SECRETS_FILE))?;
        let session_key = match configured_session_key {
            Some(value) => SecretKey::from_configured(value, "STRATUS_SESSION_SECRET")?,
            None => stored.session_key,
        };
        let gateway_key = match configured_gateway_key {
            Some(value) => SecretKey::from_configured(value, "STRATUS_GATEWAY_SECRET")?,
            None => stored.gateway_key,
        };
        Ok(Self {
            session_key,
            gateway_key,
        })
    }
}

struct FileSecrets {
    session_key: SecretKey,
    gateway_key: SecretKey,
}

fn load_or_create_file(path: &Path) -> anyhow::Result<FileSecrets> {
    use anyhow::Context;
    match fs::read_to_string(path) {
        Ok(text) => {
            let stored: StoredSecrets = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid secrets file", path.display()))?;
            let decode = |value: &str, name: &str| -> anyhow::Result<SecretKey> {
                let bytes = BASE64
                    .decode(value)
                    .with_context(|| format!("{name} in {} is not base64", path.display()))?;
                anyhow::ensure!(
                    bytes.len() >= 32,
                    "{name} in {} is too short",
                    path.display()
                );
                Ok(SecretKey(bytes))
            };
            Ok(FileSecrets {
                session_key: decode(&stored.session_key, "session_key")?,
                gateway_key: decode(&stored.gateway_key, "gateway_key")?,
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let secrets = FileSecrets {
                session_key: SecretKey::generate(),
                gateway_key: SecretKey::generate(),
            };
            let stored = StoredSecrets {
                session_key: BASE64.encode(secrets.session_key.expose()),
                gateway_key: BASE64.encode(secrets.gateway_key.expose()),
            };
            write_owner_only(path, serde_json::to_string_pretty(&stored)?.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated new signing keys");
            Ok(secrets)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes a new file that only its owner may read; refuses to overwrite an existing one,
/// so two servers starting at once cannot each generate and half-write different keys.
fn write_owner_only(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = Secrets::load_or_generate(dir.path(), None, None).unwrap();
        let second = Secrets::load_or_generate(dir.path(), None, None).unwrap();
        assert_eq!(first.session_key, second.session_key);
        assert_eq!(first.gateway_key, second.gateway_key);
        assert_ne!(first.session_key, first.gateway_key);
        assert_eq!(first.session_key.expose().len(), KEY_BYTES);
    }

    #[cfg(unix)]
    #[test]
    fn the_secrets_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        Secrets::load_or_generate(dir.path(), None, None).unwrap();
        let mode = fs::metadata(dir.path().join(SECRETS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn configured_keys_win_and_short_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let long = "k".repeat(40);
        let secrets = Secrets::load_or_generate(dir.path(), Some(&long), None).unwrap();
        assert_eq!(secrets.session_key.expose(), long.as_bytes());
        assert!(Secrets::load_or_generate(dir.path(), Some("short"), None).is_err());
    }

    #[test]
    fn keys_never_appear_in_debug_output() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::load_or_generate(dir.path(), None, None).unwrap();
        assert!(!format!("{secrets:?}").contains(&BASE64.encode(secrets.session_key.expose())));
    }
}
