//! Secrets at rest: AES-256-GCM under one 32-byte key, taken from configuration
//! (`secrets_key`, base64) or from a key file created in the data directory. Each sealed value is
//! bound to a context string (e.g. tenant, setting and purpose), so a sealed value copied to
//! another row does not open.

use std::fmt;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use rand::RngCore;

const KEY_FILE: &str = "secrets.key";
const VERSION: &str = "v1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Seals and opens secrets. Its `Debug` never shows the key.
pub struct SecretBox {
    key: [u8; 32],
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

/// A sealed value that does not open: wrong key, wrong context, or tampered.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (wrong key or tampered data)")]
pub struct SealError;

impl SecretBox {
    /// A box over `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The configured key (base64 of 32 bytes), else the key file in `data_dir`, created with
    /// mode 0600 on first use.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(encoded) = configured {
            return decode_key(encoded.trim())
                .context("secrets_key must be base64 of 32 bytes")
                .map(Self::new);
        }
        let path = data_dir.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return decode_key(text.trim())
                .with_context(|| format!("{} is not base64 of 32 bytes", path.display()))
                .map(Self::new);
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private(&path, &STANDARD.encode(key))?;
        tracing::info!(path = %path.display(), "created the key that encrypts secrets at rest");
        Ok(Self::new(key))
    }

    /// Encrypts `plaintext` for `context`: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut tag = [0u8; TAG_LEN];
        // AES-256-GCM with a 32-byte key and a 12-byte nonce cannot fail.
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            context.as_bytes(),
            plaintext,
            &mut tag,
        )
        .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out.extend_from_slice(&tag);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    /// Decrypts a value sealed for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let raw = sealed
            .strip_prefix(VERSION)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or(SealError)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            context.as_bytes(),
            ciphertext,
            tag,
        )
        .map_err(|_| SealError)
    }
}

fn decode_key(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(encoded)?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the key is not 32 bytes"))
}

/// Writes a file readable by its owner only, atomically.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_within_its_context_only() {
        let sealed_box = SecretBox::new([7; 32]);
        let sealed = sealed_box.seal("t1/s1/credentials", b"consumer secret");
        assert!(!sealed.contains("consumer"));
        assert_eq!(
            sealed_box.open("t1/s1/credentials", &sealed).unwrap(),
            b"consumer secret"
        );
        assert!(
            sealed_box.open("t2/s1/credentials", &sealed).is_err(),
            "another row's context"
        );
        assert!(
            SecretBox::new([8; 32])
                .open("t1/s1/credentials", &sealed)
                .is_err(),
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(sealed_box.open("t1/s1/credentials", &tampered).is_err());
        assert_ne!(
            sealed,
            sealed_box.seal("t1/s1/credentials", b"consumer secret"),
            "fresh nonce"
        );
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("dep-gateway-crypto-{}", uuid::Uuid::new_v4()));
        let first = SecretBox::load_or_create(None, &dir).unwrap();
        let sealed = first.seal("c", b"x");
        let second = SecretBox::load_or_create(None, &dir).unwrap();
        assert_eq!(second.open("c", &sealed).unwrap(), b"x");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert!(format!("{first:?}").contains("redacted"));
        assert!(SecretBox::load_or_create(Some("not base64!"), &dir).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
